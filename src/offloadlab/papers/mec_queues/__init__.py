"""Paper folder of mec-queues (seed 002, COMLLM)."""
