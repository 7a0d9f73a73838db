"""Paper of satellite-mec (seed 000): figure specs, claims checks, the plug-in that registers the scenario."""
