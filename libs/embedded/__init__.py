"""Real NATS and PostgreSQL servers from wheels, as child processes."""
