"""satellite-mec methods: all-local (PAL), the reference local search, exhaustive search, DDPG."""
