"""Periodic work: expire jobs past their duration, end cancels the network never confirmed."""

from __future__ import annotations

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
