-- Jobs, their events, and the transactional outbox that publishes both events and provider work.
CREATE TABLE jobs.jobs (
    id                  text PRIMARY KEY,
    tenant              text NOT NULL,
    provider            text NOT NULL,
    status              text NOT NULL,
    spec                jsonb NOT NULL,
    reason              text,
    exit_code           integer,
    projected_cost_usd  double precision,
    hourly_rate_usd     double precision,
    billing_started_at  timestamptz,
    created_at          timestamptz NOT NULL,
    scheduled_at        timestamptz,
    started_at          timestamptz,
    deadline_at         timestamptz,
    ended_at            timestamptz,
    cancel_requested_at timestamptz,
    version             integer NOT NULL DEFAULT 0
);
CREATE INDEX jobs_tenant_created ON jobs.jobs (tenant, created_at DESC, id DESC);
CREATE INDEX jobs_tenant_status ON jobs.jobs (tenant, status, created_at DESC);
CREATE INDEX jobs_running_deadline ON jobs.jobs (deadline_at) WHERE status = 'running';
CREATE INDEX jobs_cancelling ON jobs.jobs (cancel_requested_at) WHERE status = 'cancelling';

CREATE TABLE jobs.job_events (
    seq     bigserial PRIMARY KEY,
    id      text NOT NULL UNIQUE,
    job_id  text NOT NULL REFERENCES jobs.jobs (id),
    type    text NOT NULL,
    at      timestamptz NOT NULL,
    data    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX job_events_job ON jobs.job_events (job_id, seq);

-- Rows are deleted once JetStream acknowledged them; msg_id makes re-publishing harmless.
CREATE TABLE jobs.outbox (
    seq      bigserial PRIMARY KEY,
    subject  text NOT NULL,
    msg_id   text NOT NULL,
    payload  bytea NOT NULL,
    headers  jsonb NOT NULL DEFAULT '{}'
);
