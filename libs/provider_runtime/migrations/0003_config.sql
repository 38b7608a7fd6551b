-- Configuration set through the Providers API, applied on top of the environment's settings.
-- Secrets (API keys, app keys) are sealed with CORTEX_SECRETS_KEY, never stored in plain text.
CREATE TABLE IF NOT EXISTS {schema}.config (
    id         integer PRIMARY KEY CHECK (id = 1),
    public     jsonb NOT NULL DEFAULT '{}',
    sealed     jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
