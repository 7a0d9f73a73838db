"""Methods for leo-inference (seed 003): LEOEdge's corrected three-layer dual decomposition, the centralised
MILP/LP reference, the paper's baselines, a flat centralised scheduler (extension), and relay evaluation."""
