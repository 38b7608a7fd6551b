"""Job log lines and usage samples in PostgreSQL (schema `jobs`): batched writes, reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from contracts.telemetry import LogRecord, UsageSample, record_time
from contracts.timefmt import parse_time
from runtime import codec


@dataclass(frozen=True)
class LogQuery:
    job_id: str
    tail: int | None = None  # the last N of what the other filters select
    since: datetime | None = None  # lines at or after this time
    after_seq: int = 0  # lines after this seq
    limit: int = 1000  # page size when `tail` is not given


RECORD_TIME_LENGTH = len("2025-07-10T12:34:56.123456Z")
MESSAGE_PAGE = 64  # messages read per query while collecting a page of lines


@dataclass(frozen=True)
class LogMessage:
    """One TELEMETRY log message of a job, kept as published (see migration 0012)."""

    job_id: str
    first_seq: int
    last_seq: int
    first_at: datetime
    last_at: datetime
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> LogMessage:
        """From a message body; ValueError (or KeyError, TypeError) when it is not one."""
        body = codec.loads(data)
        job_id, records = str(body["jobId"]), body["records"]
        if not records or not all(
            isinstance(r, list)
            and len(r) == 4
            and type(r[0]) is int
            and type(r[1]) is str
            and type(r[2]) is str
            and type(r[3]) is str
            for r in records
        ):
            raise ValueError("a log message holds [seq, timestamp, stream, line] records")
        seqs = [r[0] for r in records]
        if any(len(r[1]) != RECORD_TIME_LENGTH or r[1][-1] != "Z" for r in records):
            for r in records:  # not the sortable record format: normalize, store that
                r[1] = record_time(parse_time(r[1]))
            data = codec.dumps({"jobId": job_id, "records": records})
        ats = [r[1] for r in records]
        return cls(job_id, min(seqs), max(seqs), parse_time(min(ats)), parse_time(max(ats)), data)


class TelemetryStore:
    """Lines are kept as the messages that brought them (migration 0012)."""

    def __init__(self, pool: asyncpg.Pool, retention_lines: int) -> None:
        self._pool, self._retention = pool, retention_lines

    async def add_messages(self, messages: list[LogMessage]) -> None:
        """Store log messages in one transaction. Each job keeps its newest `retention`
        lines: older messages are deleted, and reads never show lines below that mark. A
        redelivered message is dropped by its key; one cut differently (a provider
        restart) may overlap another, and reads return each seq once."""
        if not messages:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                """
                INSERT INTO jobs.log_messages (job_id, first_seq, last_seq, first_at, last_at,
                                               body)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (job_id, first_seq, last_seq) DO NOTHING
                """,
                [
                    (m.job_id, m.first_seq, m.last_seq, m.first_at, m.last_at, m.body)
                    for m in messages
                ],
            )
            await conn.execute(
                """
                DELETE FROM jobs.log_messages d
                USING (SELECT j, max(top) AS top FROM unnest($1::text[], $2::bigint[])
                       AS t(j, top) GROUP BY j) t
                WHERE d.job_id = t.j AND d.last_seq <= t.top - $3
                """,
                [m.job_id for m in messages],
                [m.last_seq for m in messages],
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

    async def last_seq(self, job_id: str) -> int | None:
        """The highest seq stored for the job."""
        async with self._pool.acquire() as conn:
            return await _last_seq(conn, job_id)

    async def lines(self, q: LogQuery) -> list[LogRecord]:
        """Oldest first: the last `tail` lines of the selection, else a page of `limit`."""
        since = None if q.since is None else record_time(q.since)
        async with self._pool.acquire() as conn:
            top = await _last_seq(conn, q.job_id)
            if top is None:
                return []
            floor = max(q.after_seq, top - self._retention)  # lines at or below are gone
            if q.tail is None:
                found = await _collect(conn, q.job_id, floor, q.since, since, q.limit, True)
            else:
                found = await _collect(conn, q.job_id, floor, q.since, since, q.tail, False)
        return [found[seq] for seq in sorted(found)]

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


async def _last_seq(conn: asyncpg.Connection, job_id: str) -> int | None:
    found: int | None = await conn.fetchval(
        "SELECT max(last_seq) FROM jobs.log_messages WHERE job_id = $1", job_id
    )
    return found


async def _collect(
    conn: asyncpg.Connection,
    job_id: str,
    floor: int,
    since_time: datetime | None,
    since: str | None,
    count: int,
    oldest_first: bool,
) -> dict[int, LogRecord]:
    """The `count` lowest (or highest) seqs above `floor` at or after `since`, read message
    page by message page until no later page can change the answer."""
    if count <= 0:
        return {}
    order = "first_seq" if oldest_first else "last_seq DESC, first_seq DESC"
    found: dict[int, LogRecord] = {}
    offset = 0
    while True:
        messages = await conn.fetch(
            f"""
            SELECT first_seq, last_seq, body FROM jobs.log_messages
            WHERE job_id = $1 AND last_seq > $2 AND ($3::timestamptz IS NULL OR last_at >= $3)
            ORDER BY {order} LIMIT {MESSAGE_PAGE} OFFSET {offset}
            """,
            job_id,
            floor,
            since_time,
        )
        for message in messages:
            if len(found) >= count and _beyond(message, found, count, oldest_first):
                return _keep(found, count, oldest_first)
            for seq, at, stream, line in codec.loads(message["body"])["records"]:
                if seq > floor and (since is None or at >= since):
                    found[seq] = LogRecord(seq, at, stream, line)
        if len(messages) < MESSAGE_PAGE:
            return _keep(found, count, oldest_first)
        offset += MESSAGE_PAGE


def _beyond(
    message: asyncpg.Record, found: dict[int, LogRecord], count: int, oldest_first: bool
) -> bool:
    """Whether this message and every one after it in read order lie outside the answer."""
    ranked = sorted(found)
    if oldest_first:  # messages come by first_seq: the rest start above the count-th lowest
        return bool(message["first_seq"] > ranked[count - 1])
    return bool(message["last_seq"] < ranked[-count])  # by last_seq, descending


def _keep(found: dict[int, LogRecord], count: int, oldest_first: bool) -> dict[int, LogRecord]:
    ranked = sorted(found)
    chosen = ranked[:count] if oldest_first else ranked[-count:]
    return {seq: found[seq] for seq in chosen}
