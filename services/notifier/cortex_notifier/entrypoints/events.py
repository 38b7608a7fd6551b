"""Consume public events (stream EVENTS) with one durable consumer shared by replicas; ack
only after the deliveries they call for are committed, so nothing acknowledged is lost."""

from __future__ import annotations

from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects
from contracts.events import EventEnvelope
from cortex_notifier.service_layer.fanout import FanOut, IncomingEvent
from runtime.consumer import PullConsumer
from runtime.logging import get_logger
from runtime.tracing import TENANT_HEADER

log = get_logger(__name__)
DURABLE = "notifier-events"


def event_consumer(
    js: JetStreamContext, fan_out: FanOut, batch: int, created: Callable[[], None]
) -> PullConsumer:
    async def handle(messages: list[Msg]) -> None:
        events: list[IncomingEvent] = []
        parsed: list[Msg] = []
        for msg in messages:
            try:
                event = EventEnvelope.model_validate_json(msg.data)
            except ValueError:
                log.error("events.malformed", subject=msg.subject)
                await msg.term()
                continue
            tenant = (msg.headers or {}).get(TENANT_HEADER)
            events.append(IncomingEvent(event.id, event.type, event.created_at, tenant, msg.data))
            parsed.append(msg)
        if not events:
            return
        try:
            count = await fan_out(events)
        except Exception:
            log.exception("events.fan_out_failed", events=len(events))
            for msg in parsed:
                await msg.nak(delay=1)
            return
        for msg in parsed:
            await msg.ack()
        if count:
            created()

    return PullConsumer(
        js, subjects.EVENTS_STREAM, subjects.EVENTS_SUBJECTS, DURABLE, handle, batch
    )
