"""Transactional outbox: rows written with a state change, relayed to JetStream afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import asyncpg
from nats.aio.client import Client as NATS

from runtime.background import stop_if_cancelled
from runtime.logging import get_logger
from runtime.messaging import BatchPublisher

log = get_logger(__name__)


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    msg_id: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)


async def enqueue(conn: asyncpg.Connection, messages: list[OutboxMessage]) -> None:
    if not messages:
        return
    await conn.execute(
        """
        INSERT INTO jobs.outbox (subject, msg_id, payload, headers)
        SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])
        """,
        [m.subject for m in messages],
        [m.msg_id for m in messages],
        [m.payload for m in messages],
        [m.headers for m in messages],
    )


class OutboxRelay:
    """Publishes outbox rows in order with `Nats-Msg-Id`, then deletes them.

    A crash between publish and delete re-publishes on restart; JetStream drops the duplicate
    by its message id, so each transition is published once. Replicas split rows with
    SKIP LOCKED.
    """

    def __init__(self, pool: asyncpg.Pool, nc: NATS, batch: int, poll_interval: float) -> None:
        self._pool, self._batch, self._poll = pool, batch, poll_interval
        self._publisher = BatchPublisher(nc)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
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
            if relayed >= self._batch or (self._stopping and relayed):
                continue  # a full round: more rows may be waiting
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll)

    async def relay_once(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT seq, subject, msg_id, payload, headers FROM jobs.outbox "
                "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
            )
            if not rows:
                return 0
            # Pipelined: every publish is sent before any ack is awaited; order is kept.
            await self._publisher.publish(
                [
                    (
                        r["subject"],
                        bytes(r["payload"]),
                        {**r["headers"], "Nats-Msg-Id": r["msg_id"]},
                    )
                    for r in rows
                ],
            )
            await conn.execute(
                "DELETE FROM jobs.outbox WHERE seq = ANY($1::bigint[])", [r["seq"] for r in rows]
            )
            return len(rows)
