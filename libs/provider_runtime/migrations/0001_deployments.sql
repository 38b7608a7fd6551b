-- One row per job this provider service deploys: the handle we must never lose.
CREATE TABLE IF NOT EXISTS {schema}.deployments (
    job_id           text PRIMARY KEY,
    tenant           text NOT NULL,
    spec             jsonb,
    state            text NOT NULL,
    handle           jsonb NOT NULL DEFAULT '{}',
    hourly_rate_usd  double precision,
    outcome          jsonb,
    cancel_requested boolean NOT NULL DEFAULT false,
    cancel_reason    text,
    owner            text,
    owner_until      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Claims walk these in order and stop at their limit, however long the backlog is.
CREATE INDEX IF NOT EXISTS deployments_open ON {schema}.deployments (created_at)
    WHERE state <> 'closed';
CREATE INDEX IF NOT EXISTS deployments_cancel_open ON {schema}.deployments (created_at)
    WHERE state <> 'closed' AND cancel_requested;
