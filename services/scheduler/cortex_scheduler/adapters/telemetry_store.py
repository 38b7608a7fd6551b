"""Job log lines and usage samples in PostgreSQL (schema `jobs`): batched writes, reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from contracts.telemetry import LogRecord, UsageSample, record_time
from contracts.timefmt import parse_time


@dataclass(frozen=True)
class LogQuery:
    job_id: str
    tail: int | None = None  # the last N of what the other filters select
    since: datetime | None = None  # lines at or after this time
    after_seq: int = 0  # lines after this seq
    limit: int = 1000  # page size when `tail` is not given


class TelemetryStore:
    def __init__(self, pool: asyncpg.Pool, retention_lines: int) -> None:
        self._pool, self._retention = pool, retention_lines

    async def add_lines(self, rows: list[tuple[str, LogRecord]]) -> None:
        """Store many jobs' lines in one statement; a line already stored is skipped, and
        each job keeps only its newest `retention` lines (older ones are deleted, newer
        ones over the limit never written)."""
        if not rows:
            return
        await self._pool.execute(
            """
            WITH u AS (
                SELECT j, s, a, st, l, max(s) OVER (PARTITION BY j) AS top
                FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[])
                    AS u(j, s, a, st, l)
            ), ins AS (
                INSERT INTO jobs.log_lines (job_id, seq, at, stream, line)
                SELECT j, s, a, st, l FROM u WHERE s > top - $6
                ON CONFLICT (job_id, seq) DO NOTHING
            )
            DELETE FROM jobs.log_lines d
            USING (SELECT j, max(top) AS top FROM u GROUP BY j) t
            WHERE d.job_id = t.j AND d.seq <= t.top - $6
            """,
            [job for job, _ in rows],
            [r.seq for _, r in rows],
            [parse_time(r.timestamp) for _, r in rows],
            [r.stream for _, r in rows],
            [r.line for _, r in rows],
            self._retention,
        )

    async def add_samples(self, rows: list[tuple[str, UsageSample]]) -> None:
        if not rows:
            return
        await self._pool.execute(
            """
            INSERT INTO jobs.usage_samples (job_id, at, cpu_millicores, memory_bytes, rx_bytes,
                                            tx_bytes)
            SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::bigint[],
                                 $5::bigint[], $6::bigint[])
            ON CONFLICT (job_id, at) DO NOTHING
            """,
            [job for job, _ in rows],
            [parse_time(s.timestamp) for _, s in rows],
            [s.cpu_millicores for _, s in rows],
            [s.memory_bytes for _, s in rows],
            [s.rx_bytes for _, s in rows],
            [s.tx_bytes for _, s in rows],
        )

    async def lines(self, q: LogQuery) -> list[LogRecord]:
        """Oldest first: the last `tail` lines of the selection, else a page of `limit`."""
        where = "job_id = $1 AND seq > $2 AND ($3::timestamptz IS NULL OR at >= $3)"
        if q.tail is not None:
            sql = (
                f"SELECT * FROM (SELECT seq, at, stream, line FROM jobs.log_lines WHERE {where} "
                "ORDER BY seq DESC LIMIT $4) t ORDER BY seq"
            )
            count = q.tail
        else:
            sql = f"SELECT seq, at, stream, line FROM jobs.log_lines WHERE {where} ORDER BY seq LIMIT $4"
            count = q.limit
        rows = await self._pool.fetch(sql, q.job_id, q.after_seq, q.since, count)
        return [LogRecord(r["seq"], record_time(r["at"]), r["stream"], r["line"]) for r in rows]

    async def metrics(
        self, job_id: str, period: timedelta, resolution: timedelta
    ) -> list[dict[str, Any]]:
        """One averaged point per `resolution` bucket with data in the last `period`
        (network bytes summed: they are per-interval counts)."""
        rows = await self._pool.fetch(
            """
            SELECT date_bin($3, at, TIMESTAMPTZ '2000-01-01Z') AS bucket,
                   avg(cpu_millicores) AS cpu, avg(memory_bytes) AS memory,
                   sum(rx_bytes) AS rx, sum(tx_bytes) AS tx
            FROM jobs.usage_samples
            WHERE job_id = $1 AND at >= now() - $2::interval
            GROUP BY bucket ORDER BY bucket
            """,
            job_id,
            period,
            resolution,
        )
        return [dict(r) for r in rows]
