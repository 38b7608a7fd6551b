"""Periodic work: expire jobs past their duration, end cancels the network never confirmed."""

from __future__ import annotations

from cortex_scheduler.service_layer.handlers import Scheduler
from runtime.background import BackgroundTask, every


def timers(scheduler: Scheduler, interval: float) -> BackgroundTask:
    async def tick() -> None:
        while await scheduler.expire_due():
            pass
        while await scheduler.end_stale_cancels():
            pass

    return every(interval, tick, "timers")
