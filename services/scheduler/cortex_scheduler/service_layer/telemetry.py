"""Reading a job's logs and metrics, for its tenant only."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import asyncpg

from contracts.errors import ApiError, ErrorCode
from contracts.timefmt import format_time
from cortex_scheduler.adapters.telemetry_store import LogQuery, TelemetryStore

TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
STORE_WAIT = 5.0  # seconds a read waits for the last lines of an ended job to be stored


class TelemetryReader:
    def __init__(self, pool: asyncpg.Pool, store: TelemetryStore) -> None:
        self._pool, self._store = pool, store

    async def logs(self, tenant: str, q: LogQuery) -> dict[str, Any]:
        """`{status, logs: [{seq, timestamp, stream, line}]}`; the status lets a follower
        know whether more lines can come."""
        status = await self._status(tenant, q.job_id)
        if status in TERMINAL:
            await self._stored_to_the_end(q.job_id)
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

    async def _stored_to_the_end(self, job_id: str) -> None:
        """Logs and the end report travel on different consumers: after the job ended, wait
        (bounded) until its last line (`logSeq` of the final event) is stored, so a read
        right after completion has every line."""
        final = await self._pool.fetchval(
            "SELECT (data->>'logSeq')::bigint FROM jobs.job_events "
            "WHERE job_id = $1 AND data ? 'logSeq' ORDER BY seq DESC LIMIT 1",
            job_id,
        )
        if final is None:
            return
        deadline = time.monotonic() + STORE_WAIT
        while time.monotonic() < deadline:
            stored = await self._store.last_seq(job_id)
            if stored is not None and stored >= final:
                return
            await asyncio.sleep(0.05)

    async def _status(self, tenant: str, job_id: str) -> str:
        status = await self._pool.fetchval(
            "SELECT status FROM jobs.jobs WHERE id = $1 AND tenant = $2", job_id, tenant
        )
        if status is None:
            raise ApiError(ErrorCode.JOB_NOT_FOUND, f"Job {job_id} not found", {"id": job_id})
        return str(status)
