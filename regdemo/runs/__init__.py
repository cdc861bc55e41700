"""Runs: the registry, the local worker pool, the RQ backend, executing one run, and the run records."""
