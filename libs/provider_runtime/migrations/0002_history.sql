-- Health checks and price refreshes, kept for the Providers API's metrics and price history.
CREATE TABLE IF NOT EXISTS {schema}.health_checks (
    at         timestamptz NOT NULL DEFAULT now(),
    ok         boolean NOT NULL,
    latency_ms double precision
);
CREATE INDEX IF NOT EXISTS health_checks_at ON {schema}.health_checks (at);
CREATE TABLE IF NOT EXISTS {schema}.prices (
    at              timestamptz NOT NULL DEFAULT now(),
    cpu_core_hour   double precision NOT NULL,
    memory_gb_hour  double precision NOT NULL,
    storage_gb_hour double precision NOT NULL,
    gpu_hour        double precision
);
CREATE INDEX IF NOT EXISTS prices_at ON {schema}.prices (at);
-- Ended deployments by time, for jobsCompleted / jobsFailed per bucket.
CREATE INDEX IF NOT EXISTS deployments_closed ON {schema}.deployments (updated_at)
    WHERE state = 'closed';
