"""Turn public events into deliveries: one per enabled webhook of the event's tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.timefmt import utcnow
from contracts.webhooks import subscribed
from cortex_notifier.adapters.deliveries import DeliveryRepository, NewDelivery
from cortex_notifier.adapters.webhooks import Subscription, WebhookRepository
from cortex_notifier.domain.model import new_delivery_id
from runtime.logging import get_logger

log = get_logger(__name__)
# Events stamped up to this long before a webhook's creation still reach it (clock and
# millisecond rounding between the event's publisher and the notifier).
CLOCK_SLACK = timedelta(seconds=1)
# Event families that concern every tenant (they carry no tenant header).
SHARED_FAMILIES = ("provider.",)


@dataclass(frozen=True)
class IncomingEvent:
    id: str
    type: str
    created_at: datetime
    tenant: str | None
    body: bytes  # the event exactly as published: what every attempt sends


def _reaches(event: IncomingEvent, sub: Subscription) -> bool:
    if event.tenant is None:
        if not event.type.startswith(SHARED_FAMILIES):
            return False  # a tenant's event without its tenant must not reach anyone
    elif sub.tenant != event.tenant:
        return False
    return subscribed(sub.events, event.type) and event.created_at >= sub.created_at - CLOCK_SLACK


class FanOut:
    def __init__(self, webhooks: WebhookRepository, deliveries: DeliveryRepository) -> None:
        self._webhooks, self._deliveries = webhooks, deliveries

    async def __call__(self, events: list[IncomingEvent]) -> int:
        """Record the deliveries `events` call for; the number newly created."""
        tenants = sorted({e.tenant for e in events if e.tenant})
        shared = any(e.tenant is None for e in events)
        subs = await self._webhooks.subscriptions(tenants, shared)
        now = utcnow()
        rows = [
            NewDelivery(new_delivery_id(), sub.id, event.id, event.type, event.body, now)
            for event in events
            for sub in subs
            if _reaches(event, sub)
        ]
        for event in events:
            if event.tenant is None and not event.type.startswith(SHARED_FAMILIES):
                log.warning("events.no_tenant", event_id=event.id, type=event.type)
        return await self._deliveries.add_many(rows)
