"""Reusable physical models (geometry, radio links, fading). Units are SI unless a name says otherwise."""
