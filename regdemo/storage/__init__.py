"""Storage: finished runs and the live channel to workers, on SQLite or PostgreSQL."""
