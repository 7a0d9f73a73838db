"""Methods floor: scenario-specific solvers (may import solvers, rl and llm); one package per scenario."""
