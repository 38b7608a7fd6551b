-- Batches (with their concurrency limit), templates, cron schedules and idempotency records.
CREATE TABLE jobs.batches (
    id           text PRIMARY KEY,
    tenant       text NOT NULL,
    concurrency  integer NOT NULL,
    size         integer NOT NULL,
    created_at   timestamptz NOT NULL,
    cancelled_at timestamptz,
    completed_at timestamptz
);

-- released_at: when deploy work was sent. A batch job beyond the limit waits (pending,
-- released_at NULL) until the dispatcher releases it; every other job is released at once.
ALTER TABLE jobs.jobs
    ADD COLUMN batch_id    text REFERENCES jobs.batches (id),
    ADD COLUMN batch_seq   integer,
    ADD COLUMN template_id text,
    ADD COLUMN schedule_id text,
    ADD COLUMN released_at timestamptz;
UPDATE jobs.jobs SET released_at = created_at;
CREATE INDEX jobs_batch ON jobs.jobs (batch_id, batch_seq) WHERE batch_id IS NOT NULL;
CREATE INDEX jobs_batch_waiting ON jobs.jobs (batch_id, batch_seq)
    WHERE batch_id IS NOT NULL AND released_at IS NULL AND status = 'pending';
CREATE INDEX jobs_tenant_schedule ON jobs.jobs (schedule_id, created_at DESC)
    WHERE schedule_id IS NOT NULL;

CREATE TABLE jobs.templates (
    id          text PRIMARY KEY,
    tenant      text NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    config      jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX templates_tenant ON jobs.templates (tenant, created_at DESC, id DESC);

CREATE TABLE jobs.schedules (
    id          text PRIMARY KEY,
    tenant      text NOT NULL,
    name        text NOT NULL,
    cron        text NOT NULL,
    timezone    text NOT NULL,
    template_id text,
    overrides   jsonb,
    config      jsonb,
    paused      boolean NOT NULL DEFAULT false,
    next_due_at timestamptz NOT NULL,
    last_due_at timestamptz,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX schedules_tenant ON jobs.schedules (tenant, created_at DESC, id DESC);
CREATE INDEX schedules_due ON jobs.schedules (next_due_at) WHERE NOT paused;

-- One row per due time that fired: the primary key is what makes a due time fire once.
CREATE TABLE jobs.schedule_runs (
    schedule_id text NOT NULL,
    due_at      timestamptz NOT NULL,
    job_id      text,
    error       text,
    PRIMARY KEY (schedule_id, due_at)
);

-- Idempotency-Key records: the first request's hash and answer, per tenant and key.
CREATE TABLE jobs.idempotency (
    tenant       text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer,
    response     jsonb,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE INDEX idempotency_expiry ON jobs.idempotency (expires_at);
