"""Shared plumbing of the learning methods (seeding, threads, progress, checkpoints, SB3 callback)."""
