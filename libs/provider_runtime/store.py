"""Deployment handles in PostgreSQL (schema = the network's name), with ownership claims."""

from __future__ import annotations

from typing import Any

import asyncpg

from provider_runtime.model import Deployment
from runtime.group_commit import GroupCommit
from runtime.migrations import apply_migrations


class DeploymentStore:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._table = f'"{schema}".deployments'  # the schema is our network's name, not input
        self._schema = schema
        # Dozens of drivers save a step each at once: one statement and one commit for all.
        self._saves: GroupCommit[tuple[Any, ...]] = GroupCommit(self._save_many)

    async def migrate(self) -> None:
        await apply_migrations(self._pool, "provider_runtime", self._schema, prefix="runtime/")

    async def add_many(self, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Record many deploy requests in one statement (job id, tenant, spec)."""
        await self._pool.execute(
            f"INSERT INTO {self._table} (job_id, tenant, spec, state) "
            "SELECT j, t, s, 'new' FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS u(j, t, s) "
            "ON CONFLICT (job_id) DO NOTHING",
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
        )

    async def request_cancel(self, job_id: str, reason: str) -> None:
        """Flag the deployment for release; a cancel that overtook its deploy is kept too."""
        await self._pool.execute(
            f"INSERT INTO {self._table} (job_id, tenant, state, cancel_requested, cancel_reason) "
            "VALUES ($1, '', 'new', true, $2) ON CONFLICT (job_id) DO UPDATE "
            "SET cancel_requested = true, cancel_reason = $2, updated_at = now()",
            job_id,
            reason,
        )

    async def renew(self, owner: str, ttl: float, job_ids: list[str]) -> set[str]:
        """Extend our claim on the deployments we drive; returns those still ours."""
        if not job_ids:
            return set()
        rows = await self._pool.fetch(
            f"UPDATE {self._table} SET owner_until = now() + make_interval(secs => $2) "
            f"WHERE job_id IN (SELECT job_id FROM {self._table} WHERE owner = $1 "
            "AND job_id = ANY($3::text[]) ORDER BY job_id FOR UPDATE) RETURNING job_id",
            owner,
            ttl,
            job_ids,
        )
        return {r["job_id"] for r in rows}

    async def claim(
        self, owner: str, ttl: float, limit: int, driving: list[str], cancelled_only: bool = False
    ) -> list[Deployment]:
        """Take up to `limit` open deployments nobody alive drives, oldest first.

        The query walks a partial index in order and stops at `limit`, so a backlog of
        thousands of pending deployments costs nothing per claim. The deployments we drive
        are the oldest open ones, passed on every walk: a live claim rules them out at once
        (comparing each with the `driving` list cost more than the rest of the claim), so a
        drive that ends before `closed` gives its claim back (`release_claim`).
        """
        if limit <= 0:
            return []
        rows = await self._pool.fetch(
            f"""
            UPDATE {self._table} d SET owner = $1, owner_until = now() + make_interval(secs => $2)
            WHERE d.job_id IN (
                SELECT job_id FROM {self._table}
                WHERE state <> 'closed' AND (NOT $5 OR cancel_requested)
                  AND (owner IS NULL OR (owner_until < now() AND job_id <> ALL($4::text[])))
                ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING d.*
            """,
            owner,
            ttl,
            limit,
            driving,
            cancelled_only,
        )
        return [Deployment.from_row(r) for r in rows]

    async def release_claim(self, owner: str, job_id: str) -> None:
        """Give up our claim on a deployment we stopped driving: anyone may take it now."""
        await self._pool.execute(
            f"UPDATE {self._table} SET owner = NULL, owner_until = NULL "
            "WHERE job_id = $1 AND owner = $2",
            job_id,
            owner,
        )

    async def save(self, d: Deployment) -> None:
        """Persist the deployment's step; returns once it is committed."""
        await self._saves.submit(_row(d))  # as it is now: the driver goes on changing it

    async def _save_many(self, rows: list[tuple[Any, ...]]) -> None:
        # A save whose driver was interrupted can share a group with that driver's next
        # save: the later one wins. Row by row in job id order, as `renew` locks them (one
        # `UPDATE … FROM unnest` locked in plan order and deadlocked with it: decision 65).
        latest = {row[0]: row for row in rows}
        await self._pool.executemany(
            f"UPDATE {self._table} SET state = $2, handle = $3, hourly_rate_usd = $4, "
            "outcome = $5, updated_at = now() WHERE job_id = $1",
            [latest[job_id] for job_id in sorted(latest)],
        )

    async def get(self, job_id: str) -> Deployment | None:
        row = await self._pool.fetchrow(f"SELECT * FROM {self._table} WHERE job_id = $1", job_id)
        return None if row is None else Deployment.from_row(row)

    async def cancel_flag(self, job_id: str) -> tuple[bool, str | None]:
        row = await self._pool.fetchrow(
            f"SELECT cancel_requested, cancel_reason FROM {self._table} WHERE job_id = $1",
            job_id,
        )
        return (False, None) if row is None else (row["cancel_requested"], row["cancel_reason"])

    async def open_handles(self) -> list[Deployment]:
        """Every deployment not yet closed (what a leak check compares with the network)."""
        rows = await self._pool.fetch(f"SELECT * FROM {self._table} WHERE state <> 'closed'")
        return [Deployment.from_row(r) for r in rows]


def _row(d: Deployment) -> tuple[Any, ...]:
    outcome = d.outcome.to_dict() if d.outcome else None
    return (d.job_id, d.state.value, dict(d.handle), d.hourly_rate_usd, outcome)
