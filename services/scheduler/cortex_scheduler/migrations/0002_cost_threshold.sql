-- The highest fraction of the projected cost already announced as job.cost.threshold.
ALTER TABLE jobs.jobs ADD COLUMN cost_threshold_sent double precision NOT NULL DEFAULT 0;
