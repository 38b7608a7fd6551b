"""Periodic work: expire jobs past their duration, end cancels the network never confirmed."""

from __future__ import annotations

import asyncio
import contextlib

from cortex_scheduler.service_layer.handlers import Scheduler
from runtime.logging import get_logger

log = get_logger(__name__)


class Timers:
    def __init__(self, scheduler: Scheduler, interval: float) -> None:
        self._scheduler, self._interval = scheduler, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                while await self._scheduler.expire_due():
                    pass
                while await self._scheduler.end_stale_cancels():
                    pass
            except Exception:
                log.exception("timers.failed")
            await asyncio.sleep(self._interval)
