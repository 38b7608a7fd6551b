"""This service's deployment handles in PostgreSQL (schema `akash`), with ownership claims."""

from __future__ import annotations

from typing import Any

import asyncpg

from cortex_provider_akash.domain.model import Deployment, DeploymentState


class DeploymentStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, job_id: str, tenant: str, spec: dict[str, Any]) -> None:
        """Record a deploy request; a redelivered one changes nothing."""
        await self._pool.execute(
            "INSERT INTO akash.deployments (job_id, tenant, spec, state) VALUES ($1, $2, $3, 'new') "
            "ON CONFLICT (job_id) DO UPDATE SET spec = COALESCE(akash.deployments.spec, EXCLUDED.spec)",
            job_id,
            tenant,
            spec,
        )

    async def request_cancel(self, job_id: str, reason: str) -> None:
        """Flag the deployment for release; a cancel that overtook its deploy is kept too."""
        await self._pool.execute(
            "INSERT INTO akash.deployments (job_id, tenant, state, cancel_requested, cancel_reason) "
            "VALUES ($1, '', 'new', true, $2) ON CONFLICT (job_id) DO UPDATE "
            "SET cancel_requested = true, cancel_reason = $2, updated_at = now()",
            job_id,
            reason,
        )

    async def claim(self, owner: str, ttl: float, limit: int) -> list[Deployment]:
        """Take (or renew) open deployments for `owner`: its own, unowned, or abandoned ones."""
        rows = await self._pool.fetch(
            """
            UPDATE akash.deployments d SET owner = $1, owner_until = now() + make_interval(secs => $2)
            WHERE d.job_id IN (
                SELECT job_id FROM akash.deployments
                WHERE state <> 'closed' AND (owner = $1 OR owner IS NULL OR owner_until < now())
                ORDER BY (owner = $1) DESC NULLS LAST, cancel_requested DESC, created_at
                LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING d.*
            """,
            owner,
            ttl,
            limit,
        )
        return [Deployment.from_row(r) for r in rows]

    async def save(self, d: Deployment) -> None:
        await self._pool.execute(
            "UPDATE akash.deployments SET state = $2, dseq = $3, gseq = $4, oseq = $5, provider = $6, "
            "hourly_rate_usd = $7, outcome = $8, updated_at = now() WHERE job_id = $1",
            d.job_id,
            d.state.value,
            d.dseq,
            d.gseq,
            d.oseq,
            d.provider,
            d.hourly_rate_usd,
            d.outcome.to_dict() if d.outcome else None,
        )

    async def cancel_flag(self, job_id: str) -> tuple[bool, str | None]:
        row = await self._pool.fetchrow(
            "SELECT cancel_requested, cancel_reason FROM akash.deployments WHERE job_id = $1",
            job_id,
        )
        return (False, None) if row is None else (row["cancel_requested"], row["cancel_reason"])

    async def open_count(self) -> int:
        value = await self._pool.fetchval(
            "SELECT count(*) FROM akash.deployments WHERE state <> $1", DeploymentState.CLOSED.value
        )
        return int(value)
