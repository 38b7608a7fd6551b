"""The scheduler's chunked log store against a real PostgreSQL: what reads return when
batches are redelivered, cut differently, filtered by time and trimmed by retention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.telemetry import LogRecord, record_time
from cortex_scheduler.adapters.telemetry_store import CHUNK_PAGE, LogQuery, TelemetryStore
from runtime.database import close_pool, create_pool
from runtime.migrations import apply_migrations

START = datetime(2026, 1, 1, tzinfo=UTC)
JOB = "job_store"


def record(seq: int) -> LogRecord:
    """Line `seq`, written `seq` milliseconds after START."""
    return LogRecord(seq, record_time(START + timedelta(milliseconds=seq)), "stdout", f"l{seq}")


def rows(first: int, last: int, job: str = JOB) -> list[tuple[str, LogRecord]]:
    return [(job, record(seq)) for seq in range(first, last + 1)]


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    opened = await create_pool(database_url, 1, 4)
    await apply_migrations(opened, "cortex_scheduler", "jobs")
    yield opened
    await close_pool(opened)


async def seqs(store: TelemetryStore, **query: Any) -> list[int]:
    return [r.seq for r in await store.lines(LogQuery(JOB, **query))]


async def test_redelivered_and_recut_batches_are_read_once(pool: Any) -> None:
    store = TelemetryStore(pool, retention_lines=10_000)
    await store.add_lines(rows(1, 100))
    await store.add_lines(rows(1, 100))  # the same batch again: dropped
    await store.add_lines(rows(51, 150))  # cut differently after a restart: overlaps
    await store.add_lines(rows(151, 160) + rows(1, 5, job="other"))
    assert await seqs(store) == list(range(1, 161))
    assert await seqs(store, tail=30) == list(range(131, 161))
    assert await seqs(store, after_seq=95, limit=10) == list(range(96, 106))
    assert await store.last_seq(JOB) == 160


async def test_tail_since_and_pages_across_many_small_chunks(pool: Any) -> None:
    store = TelemetryStore(pool, retention_lines=10_000)
    total = CHUNK_PAGE * 3 + 7  # one line per write: more chunks than one page of them
    for seq in range(1, total + 1):
        await store.add_lines(rows(seq, seq))
    since = START + timedelta(milliseconds=100)
    assert await seqs(store, since=since, limit=5) == [100, 101, 102, 103, 104]
    assert await seqs(store, tail=3, since=since) == [total - 2, total - 1, total]
    assert await seqs(store, tail=3, after_seq=10, limit=1) == [total - 2, total - 1, total]
    assert await seqs(store, limit=1000) == list(range(1, total + 1))
    assert await seqs(store, tail=0) == []


async def test_retention_keeps_exactly_the_newest_lines(pool: Any) -> None:
    store = TelemetryStore(pool, retention_lines=25)
    for first in range(1, 100, 10):  # chunks of ten lines
        await store.add_lines(rows(first, first + 9))
    assert await seqs(store) == list(range(76, 101))  # the chunk 71-80 is only partly kept
    chunks = await pool.fetchval("SELECT count(*) FROM jobs.log_chunks WHERE job_id = $1", JOB)
    assert chunks == 3, "chunks wholly older than the newest 25 lines are deleted"
