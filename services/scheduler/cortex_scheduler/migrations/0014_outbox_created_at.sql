-- When a row was written: the relay publishes committed rows as they are handed over, and
-- sweeps only rows old enough that nobody is about to (see adapters/outbox.py).
ALTER TABLE jobs.outbox ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
