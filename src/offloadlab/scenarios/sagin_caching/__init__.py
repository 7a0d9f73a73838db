"""Scenario sagin-caching (seed 001): caching LLMs at ground BSs with age of thought, and MSB auctions."""
