"""Reinforcement-learning solvers on the scenarios' Gymnasium envs (Stable-Baselines3 first)."""
