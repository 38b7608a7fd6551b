"""BatchPublisher on a real NATS server: every batch learns its own acks on one inbox."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client as NATS

from contracts import subjects
from runtime.messaging import BatchPublisher, PublishFailed


async def test_concurrent_batches_are_stored_and_a_failed_one_spoils_only_itself(
    nats_client: NATS,
) -> None:
    js = nats_client.jetstream()
    publisher = BatchPublisher(nats_client)

    def batch(tag: str, size: int) -> list[tuple[str, bytes, dict[str, str]]]:
        subject = subjects.job_report("akash", "job-1", "status")
        return [(subject, b"{}", {"Nats-Msg-Id": f"{tag}-{i}"}) for i in range(size)]

    before = (await js.stream_info("REPORTS")).state.messages
    await asyncio.gather(*(publisher.publish(batch(f"b{n}", 25)) for n in range(8)))
    assert (await js.stream_info("REPORTS")).state.messages == before + 200

    # No stream listens on this subject: the broker answers "no responders".
    with pytest.raises(PublishFailed):
        await publisher.publish([("nobody.listens.here", b"{}", {})], timeout=2.0)
    await publisher.publish(batch("after", 3))  # the shared inbox still works
    assert (await js.stream_info("REPORTS")).state.messages == before + 203
    assert publisher.waiting == 0
