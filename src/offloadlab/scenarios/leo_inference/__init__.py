"""Scenario leo-inference (seed 003, LEOEdge): LEO satellites run AI inference on board or offload it over
contact windows (or neighbour relays) to a ground station's load-balancing scheduler, servers and containers."""
