"""Scenario dt-vehicular (seed 004): digital-twin vehicular edge computing with queues, Lyapunov, MARL, SARL, LLM."""
