"""Transactional outbox: rows written with a state change, relayed to JetStream afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

import asyncpg
from nats.aio.client import Client as NATS

from runtime.background import stop_if_cancelled, wait_set
from runtime.logging import get_logger
from runtime.messaging import BatchPublisher, Outgoing

log = get_logger(__name__)


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    msg_id: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def outgoing(self) -> Outgoing:
        return self.subject, self.payload, {**self.headers, "Nats-Msg-Id": self.msg_id}


Committed = list[tuple[int, OutboxMessage]]  # (seq, message) of rows in a committed transaction
# Rows this old are swept from the table: whoever wrote them is not about to publish them.
STALE_AFTER_SECONDS = 5.0
SWEEP_EVERY_SECONDS = 1.0  # at most this long between sweeps, however busy the relay is


async def enqueue(conn: asyncpg.Connection, messages: list[OutboxMessage]) -> Committed:
    """Write the messages in the caller's transaction; their seqs, in the messages' order."""
    if not messages:
        return []
    rows = await conn.fetch(
        """
        INSERT INTO jobs.outbox (subject, msg_id, payload, headers)
        SELECT s, m, p, h
        FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[]) WITH ORDINALITY
            AS u(s, m, p, h, n)
        ORDER BY n
        RETURNING seq
        """,
        [m.subject for m in messages],
        [m.msg_id for m in messages],
        [m.payload for m in messages],
        [m.headers for m in messages],
    )
    # Rows are inserted, and take their seqs, in `n` order.
    return list(zip(sorted(r["seq"] for r in rows), messages, strict=True))


class OutboxRelay:
    """Publishes outbox rows with `Nats-Msg-Id`, then deletes them.

    A unit of work hands its rows over once committed (`committed`), and they are published
    at once, in commit order, with no query to find them. The table is swept as well, for
    rows nobody handed over: written before a crash, or whose publish failed. A sweep takes
    only rows `STALE_AFTER_SECONDS` old (fresh ones are another replica's to publish), except
    on start and stop and after `wake()`. A crash between publish and delete re-publishes;
    JetStream drops the duplicate by its message id, so each transition is published once.
    Replicas split swept rows with SKIP LOCKED.
    """

    def __init__(self, pool: asyncpg.Pool, nc: NATS, batch: int, poll_interval: float) -> None:
        self._pool, self._batch, self._poll = pool, batch, poll_interval
        self._publisher = BatchPublisher(nc)
        self._handed: deque[tuple[int, OutboxMessage]] = deque()
        self._sweep_all = True  # the first sweep takes every row: a previous run's leftovers
        self._swept_at = 0.0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def committed(self, rows: Committed) -> None:
        """Rows of a transaction that just committed: publish them now."""
        self._handed.extend(rows)
        self._wakeup.set()

    def wake(self) -> None:
        """Sweep every row now, however fresh (rows written by other means)."""
        self._sweep_all = True
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Relay what is left, then stop."""
        self._stopping = True
        self._wakeup.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            # Cleared before the round: a commit during it leaves the flag set for the next.
            self._wakeup.clear()
            try:
                relayed = await self.relay_once()
            except Exception:
                stop_if_cancelled()
                log.exception("outbox.relay_failed")
                relayed = 0
                await asyncio.sleep(self._poll)
            if self._handed or relayed >= self._batch or (self._stopping and relayed):
                continue  # more is waiting
            if self._stopping:
                return
            await wait_set(self._wakeup, self._poll)

    async def relay_once(self) -> int:
        """Relay one batch: of the table when a sweep is due, else of the handed-over rows."""
        sweep_due = time.monotonic() - self._swept_at >= SWEEP_EVERY_SECONDS
        if sweep_due or self._sweep_all or self._stopping:
            return await self._sweep()
        return await self._relay_handed()

    async def _relay_handed(self) -> int:
        rows = [self._handed.popleft() for _ in range(min(self._batch, len(self._handed)))]
        if not rows:
            return 0
        # Should this fail, the rows are still in the table: a sweep relays them.
        await self._publisher.publish([message.outgoing() for _, message in rows])
        await self._pool.execute(
            "DELETE FROM jobs.outbox WHERE seq = ANY($1::bigint[])", [seq for seq, _ in rows]
        )
        return len(rows)

    async def _sweep(self) -> int:
        self._swept_at = time.monotonic()
        every = self._sweep_all or self._stopping
        self._sweep_all = False  # before the query: a wake() during it asks for another sweep
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT seq, subject, msg_id, payload, headers FROM jobs.outbox "
                "WHERE created_at <= now() - make_interval(secs => $2) "
                "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
                0.0 if every else STALE_AFTER_SECONDS,
            )
            if every and len(rows) == self._batch:
                self._sweep_all = True  # more rows may be left: the next round sweeps on
            if not rows:
                return 0
            # Pipelined: every publish is sent before any ack is awaited; order is kept.
            await self._publisher.publish(
                [
                    OutboxMessage(
                        r["subject"], r["msg_id"], bytes(r["payload"]), r["headers"]
                    ).outgoing()
                    for r in rows
                ],
            )
            seqs = [r["seq"] for r in rows]
            await conn.execute("DELETE FROM jobs.outbox WHERE seq = ANY($1::bigint[])", seqs)
        swept = set(seqs)
        if self._handed and swept:  # published already: not again from memory
            self._handed = deque(row for row in self._handed if row[0] not in swept)
        return len(rows)
