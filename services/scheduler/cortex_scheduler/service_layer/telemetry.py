"""Reading a job's logs and metrics, for its tenant only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from contracts.errors import ApiError, ErrorCode
from contracts.timefmt import format_time
from cortex_scheduler.adapters.telemetry_store import LogQuery, TelemetryStore


class TelemetryReader:
    def __init__(self, pool: asyncpg.Pool, store: TelemetryStore) -> None:
        self._pool, self._store = pool, store

    async def logs(self, tenant: str, q: LogQuery) -> dict[str, Any]:
        """`{status, logs: [{seq, timestamp, stream, line}]}`; the status lets a follower
        know whether more lines can come."""
        status = await self._status(tenant, q.job_id)
        records = await self._store.lines(q)
        return {
            "status": status,
            "logs": [
                {"seq": r.seq, "timestamp": r.timestamp, "stream": r.stream, "line": r.line}
                for r in records
            ],
        }

    async def metrics(
        self, tenant: str, job_id: str, period: timedelta, resolution: timedelta
    ) -> dict[str, Any]:
        """The seed's shape: cpu (millicores), memory (bytes), network rx/tx (bytes per
        bucket; empty where the network does not measure them)."""
        await self._status(tenant, job_id)
        rows = await self._store.metrics(job_id, period, resolution)

        def series(key: str, cast: type[int] | type[float]) -> list[dict[str, Any]]:
            return [
                {"timestamp": format_time(r["bucket"]), "value": cast(r[key])}
                for r in rows
                if r[key] is not None
            ]

        return {
            "cpu": [
                {"timestamp": format_time(r["bucket"]), "value": round(float(r["cpu"]), 1)}
                for r in rows
            ],
            "memory": series("memory", int),
            "network": {"rx": series("rx", int), "tx": series("tx", int)},
        }

    async def _status(self, tenant: str, job_id: str) -> str:
        status = await self._pool.fetchval(
            "SELECT status FROM jobs.jobs WHERE id = $1 AND tenant = $2", job_id, tenant
        )
        if status is None:
            raise ApiError(ErrorCode.JOB_NOT_FOUND, f"Job {job_id} not found", {"id": job_id})
        return str(status)
