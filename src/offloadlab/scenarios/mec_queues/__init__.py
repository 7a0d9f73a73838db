"""mec-queues (seed 002, COMLLM): Tang & Wong slot-queue simulator, the COMLLM authors' formulas, envs."""
