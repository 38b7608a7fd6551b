"""Periodic work: delete delivery records past the retention period."""

from __future__ import annotations

from datetime import timedelta

from contracts.timefmt import utcnow
from cortex_notifier.adapters.deliveries import DeliveryRepository
from runtime.background import BackgroundTask, every


def retention(deliveries: DeliveryRepository, days: float, interval: float) -> BackgroundTask:
    async def purge() -> None:
        before = utcnow() - timedelta(days=days)
        while await deliveries.purge(before) > 0:  # bounded batches, short transactions
            continue

    return every(interval, purge, "retention")
