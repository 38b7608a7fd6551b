"""PullConsumer on a real NATS server: a handler that raises does not end the consumer."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from contracts import subjects
from runtime.consumer import PullConsumer


async def test_the_consumer_outlives_a_failing_handler(nats_client: NATS) -> None:
    js = nats_client.jetstream()
    handled: list[bytes] = []
    second_batch = asyncio.Event()

    async def handle(messages: list[Msg]) -> None:
        if not handled:
            handled.append(b"raised")
            raise RuntimeError("deadlock detected")  # what killed the deploy consumer
        for msg in messages:
            handled.append(msg.data)
            await msg.ack()
        second_batch.set()

    consumer = PullConsumer(
        js, subjects.REPORTS_STREAM, subjects.REPORTS_SUBJECTS, "test-durable", handle
    )
    await consumer.start()
    subject = subjects.report_group("akash")
    await js.publish(subject, b"first")
    await asyncio.sleep(0.5)  # the first batch was handed over and raised
    await js.publish(subject, b"second")
    await asyncio.wait_for(second_batch.wait(), 10)
    await consumer.stop()
    assert handled[0] == b"raised" and b"second" in handled[1:]
