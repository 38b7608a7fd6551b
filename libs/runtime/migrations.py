"""Versioned SQL migrations, applied at start under an advisory lock (replicas may race)."""

from __future__ import annotations

import zlib
from importlib import resources

import asyncpg

from runtime.logging import get_logger

log = get_logger(__name__)


async def apply_migrations(
    pool: asyncpg.Pool, package: str, schema: str, prefix: str = ""
) -> list[str]:
    """Apply `<package>/migrations/NNNN_*.sql` not yet recorded in `<schema>.schema_migrations`.

    `{schema}` in the SQL becomes `schema`, so a library can own tables that several services
    keep in schemas of their own; `prefix` keeps its versions apart from the service's.
    """
    files = sorted(
        (prefix + item.name, item.read_text().replace("{schema}", schema))
        for item in resources.files(package).joinpath("migrations").iterdir()
        if item.name.endswith(".sql")
    )
    applied: list[str] = []
    lock_id = zlib.crc32(schema.encode())
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_id)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations '
            "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {
            r["version"]
            for r in await conn.fetch(f'SELECT version FROM "{schema}".schema_migrations')
        }
        for name, sql in files:
            if name in done:
                continue
            await conn.execute(sql)
            await conn.execute(
                f'INSERT INTO "{schema}".schema_migrations (version) VALUES ($1)', name
            )
            applied.append(name)
    if applied:
        log.info("migrations.applied", schema=schema, versions=applied)
    return applied
