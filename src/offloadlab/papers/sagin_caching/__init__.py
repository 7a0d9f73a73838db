"""Paper of sagin-caching (seed 001): figure specs, claims, special figures, the plug-in."""
