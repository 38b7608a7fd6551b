-- Log lines are stored as chunks: the lines of one job that one write brought, as parallel
-- arrays. A chatty job writes thousands of lines a second; one row (and two index entries)
-- per line made the database the busiest part of the log pipeline.
-- `ats` holds each line's timestamp in the fixed-width record format
-- (2025-07-10T12:34:56.123456Z), which sorts as text in time order.
CREATE TABLE jobs.log_chunks (
    job_id    text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq  bigint NOT NULL,
    first_at  timestamptz NOT NULL,
    last_at   timestamptz NOT NULL,
    seqs      bigint[] NOT NULL,
    ats       text[] NOT NULL,
    streams   text[] NOT NULL,
    lines     text[] NOT NULL,
    PRIMARY KEY (job_id, first_seq)
);
CREATE INDEX log_chunks_by_last ON jobs.log_chunks (job_id, last_seq);

INSERT INTO jobs.log_chunks (job_id, first_seq, last_seq, first_at, last_at, seqs, ats, streams, lines)
SELECT job_id, min(seq), max(seq), min(at), max(at),
       array_agg(seq ORDER BY seq),
       array_agg(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ORDER BY seq),
       array_agg(stream ORDER BY seq),
       array_agg(line ORDER BY seq)
FROM jobs.log_lines
GROUP BY job_id, seq / 1000;

DROP TABLE jobs.log_lines;
