-- API keys: only a SHA-256 of the key is kept; `prefix` lets people tell keys apart.
CREATE TABLE auth.api_keys (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    tenant      text NOT NULL,
    scopes      text[] NOT NULL,
    key_hash    text NOT NULL UNIQUE,
    prefix      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_tenant ON auth.api_keys (tenant);
