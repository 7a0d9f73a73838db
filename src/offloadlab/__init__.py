"""offloadlab: task-offloading and resource-allocation models, solvers and figures from five papers."""

__version__ = "0.1.0"
