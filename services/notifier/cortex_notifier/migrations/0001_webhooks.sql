-- Webhooks, one delivery per (webhook, event), and every attempt of each delivery.
CREATE TABLE notifier.webhooks (
    id                 text PRIMARY KEY,
    tenant             text NOT NULL,
    name               text NOT NULL,
    url                text NOT NULL,
    events             text[] NOT NULL,  -- sorted, without duplicates
    secret_sealed      text NOT NULL,    -- runtime.secretbox ciphertext, never plain text
    secret_fingerprint text NOT NULL,
    enabled            boolean NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    last_triggered_at  timestamptz,
    delivered_count    bigint NOT NULL DEFAULT 0,
    failed_count       bigint NOT NULL DEFAULT 0,
    retried_count      bigint NOT NULL DEFAULT 0,
    UNIQUE (tenant, url, events)
);
CREATE INDEX webhooks_tenant ON notifier.webhooks (tenant, created_at, id);

CREATE TABLE notifier.deliveries (
    id              text PRIMARY KEY,
    webhook_id      text NOT NULL REFERENCES notifier.webhooks (id) ON DELETE CASCADE,
    event_id        text NOT NULL,
    event_type      text NOT NULL,
    body            bytea NOT NULL,  -- fixed at creation: every attempt sends these bytes
    status          text NOT NULL,   -- pending | retrying | delivered | failed
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz,     -- due time (or lease end while in flight); null when final
    finished_at     timestamptz,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX deliveries_due ON notifier.deliveries (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX deliveries_webhook ON notifier.deliveries (webhook_id, created_at DESC, id DESC);
CREATE INDEX deliveries_finished ON notifier.deliveries (finished_at)
    WHERE finished_at IS NOT NULL;

CREATE TABLE notifier.attempts (
    delivery_id  text NOT NULL REFERENCES notifier.deliveries (id) ON DELETE CASCADE,
    number       integer NOT NULL,
    at           timestamptz NOT NULL,
    status_code  integer,
    response_ms  integer,
    error        text,
    manual       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (delivery_id, number)
);
