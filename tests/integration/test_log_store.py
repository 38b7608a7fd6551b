"""The scheduler's log store (one row per log message) against a real PostgreSQL: what reads return when
batches are redelivered, cut differently, filtered by time and trimmed by retention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.telemetry import LogRecord, log_batch, record_time
from cortex_scheduler.adapters.telemetry_store import (
    MESSAGE_PAGE,
    LogMessage,
    LogQuery,
    TelemetryStore,
)
from runtime import codec
from runtime.database import close_pool, create_pool
from runtime.migrations import apply_migrations

START = datetime(2026, 1, 1, tzinfo=UTC)
JOB = "job_store"


def record(seq: int) -> LogRecord:
    """Line `seq`, written `seq` milliseconds after START."""
    return LogRecord(seq, record_time(START + timedelta(milliseconds=seq)), "stdout", f"l{seq}")


def message(first: int, last: int, job: str = JOB) -> LogMessage:
    """A TELEMETRY log message with lines `first`..`last`, as a provider publishes it."""
    body = log_batch(job, [record(seq) for seq in range(first, last + 1)])
    return LogMessage.parse(codec.dumps(body))


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
    await store.add_messages([message(1, 100)])
    await store.add_messages([message(1, 100)])  # the same message again: dropped
    await store.add_messages([message(51, 150)])  # cut differently after a restart
    await store.add_messages([message(151, 160), message(1, 5, job="other")])
    assert await seqs(store) == list(range(1, 161))
    assert await seqs(store, tail=30) == list(range(131, 161))
    assert await seqs(store, after_seq=95, limit=10) == list(range(96, 106))
    assert await store.last_seq(JOB) == 160


async def test_tail_since_and_pages_across_many_small_chunks(pool: Any) -> None:
    store = TelemetryStore(pool, retention_lines=10_000)
    total = MESSAGE_PAGE * 3 + 7  # one line per message: more than one page of them
    for seq in range(1, total + 1):
        await store.add_messages([message(seq, seq)])
    since = START + timedelta(milliseconds=100)
    assert await seqs(store, since=since, limit=5) == [100, 101, 102, 103, 104]
    assert await seqs(store, tail=3, since=since) == [total - 2, total - 1, total]
    assert await seqs(store, tail=3, after_seq=10, limit=1) == [total - 2, total - 1, total]
    assert await seqs(store, limit=1000) == list(range(1, total + 1))
    assert await seqs(store, tail=0) == []


async def test_retention_keeps_exactly_the_newest_lines(pool: Any) -> None:
    store = TelemetryStore(pool, retention_lines=25)
    for first in range(1, 100, 10):  # chunks of ten lines
        await store.add_messages([message(first, first + 9)])
    assert await seqs(store) == list(range(76, 101))  # the message 71-80 is only partly kept
    chunks = await pool.fetchval("SELECT count(*) FROM jobs.log_messages WHERE job_id = $1", JOB)
    assert chunks == 3, "messages wholly older than the newest 25 lines are deleted"


async def test_a_redelivered_message_never_costs_its_neighbours_their_lines(pool: Any) -> None:
    """The first message stored, its ack lost; it comes again in one fetch with the next."""
    store = TelemetryStore(pool, retention_lines=10_000)
    await store.add_messages([message(1, 100)])
    await store.add_messages([message(1, 100), message(101, 200)])
    assert await seqs(store) == list(range(1, 201))


def test_a_message_with_foreign_timestamps_is_stored_in_record_format() -> None:
    body = {"jobId": JOB, "records": [[1, "2026-01-01T00:00:00Z", "stdout", "a"]]}
    parsed = LogMessage.parse(codec.dumps(body))
    stored = codec.loads(parsed.body)["records"][0]
    assert stored[1] == "2026-01-01T00:00:00.000000Z" and parsed.first_at == START


def test_a_malformed_message_is_refused() -> None:
    for records in ([], [[1, "t", "stdout"]], [["1", "2026-01-01T00:00:00Z", "stdout", "a"]]):
        with pytest.raises(ValueError):
            LogMessage.parse(codec.dumps({"jobId": JOB, "records": records}))
