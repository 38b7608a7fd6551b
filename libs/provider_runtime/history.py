"""What a network did over time: health checks, prices and ended jobs, aggregated per bucket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg

from contracts.reports import NetworkPrice
from contracts.timefmt import format_time

RETENTION = timedelta(days=31)  # the longest window the API shows is 30 days


class History:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._s = f'"{schema}"'  # our network's name, not input

    async def record_check(self, ok: bool, latency_ms: float | None) -> None:
        await self._pool.execute(
            f"INSERT INTO {self._s}.health_checks (ok, latency_ms) VALUES ($1, $2)", ok, latency_ms
        )

    async def record_price(self, price: NetworkPrice) -> None:
        await self._pool.execute(
            f"INSERT INTO {self._s}.prices (cpu_core_hour, memory_gb_hour, storage_gb_hour, "
            "gpu_hour) VALUES ($1, $2, $3, $4)",
            price.cpu_core_hour,
            price.memory_gb_hour,
            price.storage_gb_hour,
            price.gpu_hour,
        )

    async def prune(self) -> None:
        """Drop what no window shows any more."""
        for table in ("health_checks", "prices"):
            await self._pool.execute(
                f"DELETE FROM {self._s}.{table} WHERE at < now() - $1::interval", RETENTION
            )

    async def metrics(self, period: timedelta, resolution: timedelta) -> list[dict[str, Any]]:
        """One point per bucket that has data: latency, availability, jobs ended."""
        rows = await self._pool.fetch(
            f"""
            WITH checks AS (
                SELECT date_bin($2::interval, at, 'epoch') AS bucket,
                       avg(latency_ms) AS latency, max(latency_ms) AS latency_max,
                       count(*) FILTER (WHERE ok) AS ok, count(*) AS checks
                FROM {self._s}.health_checks WHERE at >= now() - $1::interval GROUP BY 1),
            ended AS (
                SELECT date_bin($2::interval, updated_at, 'epoch') AS bucket,
                       count(*) FILTER (WHERE outcome->>'kind' = 'completed') AS completed,
                       count(*) FILTER (WHERE outcome->>'kind' = 'failed') AS failed,
                       count(*) FILTER (WHERE outcome->>'kind' = 'released') AS released
                FROM {self._s}.deployments
                WHERE state = 'closed' AND updated_at >= now() - $1::interval GROUP BY 1)
            SELECT coalesce(c.bucket, e.bucket) AS bucket, c.latency, c.latency_max, c.ok,
                   c.checks, e.completed, e.failed, e.released
            FROM checks c FULL JOIN ended e ON c.bucket = e.bucket ORDER BY 1
            """,
            period,
            resolution,
        )
        return [
            {
                "timestamp": format_time(r["bucket"]),
                "latencyMs": None if r["latency"] is None else round(r["latency"], 1),
                "latencyMaxMs": None if r["latency_max"] is None else round(r["latency_max"], 1),
                "availability": round(r["ok"] / r["checks"], 4) if r["checks"] else None,
                "jobsCompleted": r["completed"] or 0,
                "jobsFailed": r["failed"] or 0,
                "jobsCancelled": r["released"] or 0,
            }
            for r in rows
        ]

    async def price_stats(self, window: timedelta) -> dict[str, Any]:
        """min / max / avg of each rate over the window (None without samples)."""
        row = await self._pool.fetchrow(
            f"""
            SELECT count(*) AS samples,
                   min(cpu_core_hour) AS cpu_min, max(cpu_core_hour) AS cpu_max,
                   avg(cpu_core_hour) AS cpu_avg,
                   min(memory_gb_hour) AS memory_min, max(memory_gb_hour) AS memory_max,
                   avg(memory_gb_hour) AS memory_avg,
                   min(storage_gb_hour) AS storage_min, max(storage_gb_hour) AS storage_max,
                   avg(storage_gb_hour) AS storage_avg
            FROM {self._s}.prices WHERE at >= now() - $1::interval
            """,
            window,
        )
        assert row is not None
        if not row["samples"]:
            return {"samples": 0}
        stats: dict[str, Any] = {"samples": row["samples"]}
        for rate in ("cpu", "memory", "storage"):
            stats[rate] = {k: row[f"{rate}_{k}"] for k in ("min", "max", "avg")}
        return stats
