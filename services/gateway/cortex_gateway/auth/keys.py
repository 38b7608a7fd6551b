"""API keys: issued once in plain text, stored as SHA-256 hashes, cached briefly."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from contracts.timefmt import format_time

SCOPES = frozenset({"jobs:read", "jobs:write", "webhooks:read", "webhooks:write", "admin"})
KEY_PREFIX = "ctx_"


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    tenant: str
    scopes: frozenset[str]
    prefix: str
    created_at: datetime

    def allows(self, scope: str) -> bool:
        """`admin` holds every scope."""
        return scope in self.scopes or "admin" in self.scopes

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tenant": self.tenant,
            "scopes": sorted(self.scopes),
            "prefix": self.prefix,
            "createdAt": format_time(self.created_at),
        }


def hash_key(key: str) -> str:
    # Keys carry 190+ random bits, so a fast hash is enough; no salt or KDF is needed.
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _from_row(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        tenant=row["tenant"],
        scopes=frozenset(row["scopes"]),
        prefix=row["prefix"],
        created_at=row["created_at"],
    )


class KeyStore:
    """Keys in `auth.api_keys`; lookups cached for `cache_seconds` (revocation delay)."""

    def __init__(self, pool: asyncpg.Pool, cache_seconds: float) -> None:
        self._pool = pool
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}

    async def authenticate(self, key: str) -> ApiKey | None:
        digest = hash_key(key)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached and cached[1] > now:
            return cached[0]
        row = await self._pool.fetchrow(
            "SELECT * FROM auth.api_keys WHERE key_hash = $1 AND revoked_at IS NULL", digest
        )
        found = None if row is None else _from_row(row)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[digest] = (found, now + self._ttl)
        return found

    async def create(
        self, name: str, tenant: str, scopes: frozenset[str], key: str | None = None
    ) -> tuple[ApiKey, str]:
        """Issue a key; returns the record and the plain key, which is never stored."""
        key = key or generate_key()
        row = await self._pool.fetchrow(
            "INSERT INTO auth.api_keys (id, name, tenant, scopes, key_hash, prefix) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            f"key_{secrets.token_hex(8)}",
            name,
            tenant,
            sorted(scopes),
            hash_key(key),
            key[:8],
        )
        return _from_row(row), key

    async def ensure(self, key: str, name: str, tenant: str, scopes: frozenset[str]) -> None:
        """Make sure `key` exists (the bootstrap admin key); a no-op when it does."""
        exists = await self._pool.fetchval(
            "SELECT 1 FROM auth.api_keys WHERE key_hash = $1", hash_key(key)
        )
        if not exists:
            await self.create(name, tenant, scopes, key)

    async def list(self, tenant: str | None = None) -> list[ApiKey]:
        rows = await self._pool.fetch(
            "SELECT * FROM auth.api_keys WHERE revoked_at IS NULL "
            "AND ($1::text IS NULL OR tenant = $1) ORDER BY created_at, id",
            tenant,
        )
        return [_from_row(r) for r in rows]

    async def revoke(self, key_id: str) -> bool:
        row = await self._pool.fetchrow(
            "UPDATE auth.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL "
            "RETURNING key_hash",
            key_id,
        )
        if row is None:
            return False
        self._cache.pop(row["key_hash"], None)
        return True
