-- One row per job this service deploys on Akash: the handle we must never lose.
CREATE TABLE akash.deployments (
    job_id           text PRIMARY KEY,
    tenant           text NOT NULL,
    spec             jsonb,
    state            text NOT NULL,
    dseq             text,
    gseq             integer,
    oseq             integer,
    provider         text,
    hourly_rate_usd  double precision,
    outcome          jsonb,
    cancel_requested boolean NOT NULL DEFAULT false,
    cancel_reason    text,
    owner            text,
    owner_until      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_open ON akash.deployments (created_at) WHERE state <> 'closed';
