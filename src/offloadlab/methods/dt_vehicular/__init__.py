"""dt-vehicular methods: Lyapunov drift-plus-penalty, MADDPG (MARL), SARL, LLM in-context learning, baselines."""
