"""mec-queues scenario tests."""
