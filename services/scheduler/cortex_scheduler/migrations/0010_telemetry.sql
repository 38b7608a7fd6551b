-- Job log lines (the newest `log_retention_lines` per job are kept) and usage samples.
CREATE TABLE jobs.log_lines (
    job_id text NOT NULL,
    seq bigint NOT NULL,
    at timestamptz NOT NULL,
    stream text NOT NULL,
    line text NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX log_lines_by_time ON jobs.log_lines (job_id, at);

CREATE TABLE jobs.usage_samples (
    job_id text NOT NULL,
    at timestamptz NOT NULL,
    cpu_millicores double precision NOT NULL,
    memory_bytes bigint NOT NULL,
    rx_bytes bigint,
    tx_bytes bigint,
    PRIMARY KEY (job_id, at)
);
