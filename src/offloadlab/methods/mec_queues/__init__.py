"""mec-queues methods floor: heuristics, oracles and Tang & Wong's DQN as registered solvers."""
