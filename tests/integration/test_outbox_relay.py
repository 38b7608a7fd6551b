"""The outbox relay on a real PostgreSQL and NATS: committed rows go out at once, leftovers
once stale (or when woken), each message stored once."""

from __future__ import annotations

import asyncio

import asyncpg

from contracts import subjects
from cortex_scheduler.adapters.outbox import OutboxMessage, OutboxRelay, enqueue
from embedded.nats import NatsServer
from runtime.database import create_pool
from runtime.messaging import connect, ensure_streams
from runtime.migrations import apply_migrations
from tests.integration.stack import wait_until


def _message(n: int) -> OutboxMessage:
    return OutboxMessage(subjects.job_event(f"job-{n}", "created"), f"evt-{n}", b"{}")


async def test_handed_rows_go_out_at_once_and_leftovers_once_stale_or_woken(
    database_url: str, nats_server: NatsServer
) -> None:
    pool = await create_pool(database_url)
    nc = await connect(nats_server.url, "test-outbox")
    relay = OutboxRelay(pool, nc, batch=100, poll_interval=0.05)
    try:
        await apply_migrations(pool, "cortex_scheduler", "jobs")
        js = nc.jetstream()
        await ensure_streams(js)

        async def rows() -> int:
            count: int = await pool.fetchval("SELECT count(*) FROM jobs.outbox")
            return count

        async def relayed() -> bool:
            return await rows() == 0

        async def stored() -> int:
            return (await js.stream_info(subjects.EVENTS_STREAM)).state.messages

        relay.start()
        async with pool.acquire() as conn, conn.transaction():
            committed = await enqueue(conn, [_message(n) for n in range(1, 6)])
        assert [message.msg_id for _, message in committed] == [f"evt-{n}" for n in range(1, 6)]
        seqs = [seq for seq, _ in committed]
        assert seqs == sorted(seqs)
        relay.committed(committed)
        await wait_until(relayed)
        assert await stored() == 5

        # Written but never handed over (its writer crashed): fresh, so left alone a while.
        await enqueue_alone(pool, _message(6))
        await asyncio.sleep(1.5)  # more than a sweep period
        assert await rows() == 1
        await pool.execute("UPDATE jobs.outbox SET created_at = now() - interval '1 minute'")
        await wait_until(relayed)
        assert await stored() == 6

        # Woken: swept however fresh; a row relayed twice is stored once.
        await enqueue_alone(pool, _message(7))
        await enqueue_alone(pool, _message(1))
        relay.wake()
        await wait_until(relayed)
        assert await stored() == 7
    finally:
        await relay.stop()
        await nc.close()
        await pool.close()


async def enqueue_alone(pool: asyncpg.Pool, message: OutboxMessage) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, [message])
