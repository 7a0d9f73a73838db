"""Paper of dt-vehicular (seed 004): figure specs, claims, special figures, the plug-in."""
