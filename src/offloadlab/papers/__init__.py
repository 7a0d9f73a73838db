"""Papers layer: each paper's figure specs, claims checks and special figures, one package per scenario."""
