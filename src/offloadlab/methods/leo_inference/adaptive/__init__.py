"""Adaptive modeling of LEOEdge (seed 003, Sec. VIII): device knowledge base, search space, one-shot search, NAG."""
