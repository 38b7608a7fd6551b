"""Consume public events (stream EVENTS) with one durable consumer shared by replicas; ack
only after the deliveries they call for are committed, so nothing acknowledged is lost."""

from __future__ import annotations

from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects
from contracts.events import EventEnvelope
from cortex_notifier.adapters.webhooks import WebhookRepository
from cortex_notifier.service_layer.fanout import FanOut, IncomingEvent
from runtime.consumer import PullConsumer
from runtime.logging import get_logger
from runtime.tracing import TENANT_HEADER

log = get_logger(__name__)
DURABLE = "notifier-events"


class ListeningGate:
    """EVENTS is read only while some webhook exists.

    Every event costs the notifier (and NATS) a delivery, a parse and an ack even when no
    one can want it; without webhooks the consumer stops fetching instead. Nothing is lost:
    the durable consumer keeps its place, so a webhook created later still gets every event
    stamped after its creation, read from where the consumer stopped.
    """

    def __init__(self, webhooks: WebhookRepository, batch: int) -> None:
        self._webhooks, self._batch = webhooks, batch
        self._open = True  # until a check says there is nothing to serve
        self._consumer: PullConsumer | None = None

    def attach(self, consumer: PullConsumer) -> None:
        self._consumer = consumer

    def room(self) -> int:
        return self._batch if self._open else 0

    def open(self) -> None:
        """A webhook exists now: read on at once."""
        self._open = True
        if self._consumer is not None:
            self._consumer.wake()

    async def check(self) -> None:
        if await self._webhooks.any_exist():
            self.open()
        elif self._open:
            self._open = False
            log.info("events.paused_no_webhooks")


def event_consumer(
    js: JetStreamContext,
    fan_out: FanOut,
    batch: int,
    created: Callable[[], None],
    gate: ListeningGate | None = None,
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

    consumer = PullConsumer(
        js,
        subjects.EVENTS_STREAM,
        subjects.EVENTS_SUBJECTS,
        DURABLE,
        handle,
        batch,
        room=gate.room if gate is not None else None,
    )
    if gate is not None:
        gate.attach(consumer)
    return consumer
