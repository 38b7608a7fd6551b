-- Log lines are kept as the TELEMETRY messages that brought them: one row per message, its
-- body stored as published ({"jobId", "records": [[seq, timestamp, stream, line], ...]}).
-- The scheduler then does no work per line at all, and a message redelivered after its
-- row was written (an ack lost in a crash) is dropped by the key without touching the
-- lines of any other message (0011's chunks, one per job per fetch, could drop a
-- redelivered message's neighbours with it). Timestamps are in the fixed-width record
-- format (2025-07-10T12:34:56.123456Z), which sorts as text in time order.
CREATE TABLE jobs.log_messages (
    job_id    text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq  bigint NOT NULL,
    first_at  timestamptz NOT NULL,
    last_at   timestamptz NOT NULL,
    body      bytea NOT NULL,
    PRIMARY KEY (job_id, first_seq, last_seq)
);
-- Log text rarely compresses enough to pay for compressing every message.
ALTER TABLE jobs.log_messages ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX log_messages_by_last ON jobs.log_messages (job_id, last_seq);

INSERT INTO jobs.log_messages (job_id, first_seq, last_seq, first_at, last_at, body)
SELECT c.job_id, c.first_seq, c.last_seq, c.first_at, c.last_at,
       convert_to(json_build_object(
           'jobId', c.job_id,
           'records', (SELECT json_agg(json_build_array(u.s, u.a, u.st, u.l) ORDER BY u.s)
                       FROM unnest(c.seqs, c.ats, c.streams, c.lines) AS u(s, a, st, l))
       )::text, 'UTF8')
FROM jobs.log_chunks c;

DROP TABLE jobs.log_chunks;
