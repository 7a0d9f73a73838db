"""sagin-caching methods: caching policies (Least-AoT, FIFO, LFU, cloud), SPA, myopic/optimal MSB, DQN-tuned MSB."""
