"""Periodic work: expire jobs past their duration, end cancels the network never confirmed,
fire cron schedules, re-check batches for free slots, drop expired idempotency records."""

from __future__ import annotations

from contracts.timefmt import utcnow
from cortex_scheduler.service_layer import batches
from cortex_scheduler.service_layer.catalog import Catalog
from cortex_scheduler.service_layer.handlers import Scheduler
from runtime.background import BackgroundTask, every


def timers(scheduler: Scheduler, interval: float) -> BackgroundTask:
    async def tick() -> None:
        # Each call handles a bounded batch; repeat until a call finds nothing left.
        for step in (scheduler.expire_due, scheduler.end_stale_cancels):
            while await step() > 0:
                continue

    return every(interval, tick, "timers")


def cost_alerts(scheduler: Scheduler, thresholds: list[float], interval: float) -> BackgroundTask:
    async def check() -> None:
        await scheduler.announce_cost_thresholds(thresholds)

    return every(interval, check, "cost-thresholds")


def schedule_timer(catalog: Catalog, interval: float) -> BackgroundTask:
    async def fire() -> None:
        while await catalog.fire_due() > 0:
            continue

    return every(interval, fire, "schedules")


def batch_sweep(scheduler: Scheduler, interval: float) -> BackgroundTask:
    """Admission normally happens when a batch job ends; this catches anything left over."""

    async def sweep() -> None:
        async with scheduler.uow() as uow:
            await batches.sweep(uow)
            await uow.commit()
        async with scheduler.uow() as uow:
            await uow.idempotency.delete_expired(utcnow(), 10_000)
            await uow.commit()

    return every(interval, sweep, "batch-sweep")
