"""Without any webhook the notifier leaves EVENTS unread, and misses nothing by it."""

from __future__ import annotations

import asyncio

from contracts import subjects
from cortex_notifier.bootstrap import NotifierService
from cortex_notifier.entrypoints.events import DURABLE
from embedded.nats import NatsServer
from tests.integration.notifier.env import WebhookEnv, start_env, stop_env, wait_until
from tests.integration.stack import notifier_settings


async def pending(env: WebhookEnv) -> int:
    info = await env.nc.jetstream().consumer_info(subjects.EVENTS_STREAM, DURABLE)
    return int(info.num_pending) + int(info.num_ack_pending)


async def test_no_webhooks_no_reading_then_a_new_webhook_gets_what_follows(
    nats_server: NatsServer, database_url: str
) -> None:
    # A long idle check: only the creating replica's broadcast can wake the other one.
    env = await start_env(nats_server.url, database_url, webhook_idle_check=3600)
    other = NotifierService(
        notifier_settings(nats_server.url, database_url, webhook_idle_check=3600)
    )
    await other.start()
    try:
        for _ in range(5):
            await env.publish("job.completed")
        # Past the notifier's clock slack (1 s): these are older than the webhook below.
        await asyncio.sleep(1.5)
        assert await pending(env) == 5, "with no webhook, neither replica reads EVENTS"
        assert env.notifier.gate.room() == 0 and other.gate.room() == 0

        hook = await env.create(url=env.receiver.url("idle"), events=["job.completed"])
        assert other.gate.room() > 0 or await _opened(other), "the broadcast woke the other"
        after = await env.publish("job.completed")

        items = await env.wait_history(hook["id"], lambda items: len(items) >= 1)
        await wait_until(lambda: _pending_is(env, 0))
        # Read from where the consumer stopped: the five older events were read too, and
        # skipped as older than the webhook; the new one was delivered, once.
        assert [item["eventId"] for item in items] == [after]
        assert len(env.receiver.hits("idle")) == 1
    finally:
        await other.stop()
        await stop_env(env)


async def _opened(service: NotifierService) -> bool:
    await wait_until(lambda: service.gate.room() > 0, timeout=5)
    return True


async def _pending_is(env: WebhookEnv, count: int) -> bool:
    return await pending(env) == count
