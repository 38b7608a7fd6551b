"""Record attempts in batches: whatever finished while the last batch committed goes next."""

from __future__ import annotations

import asyncio
import contextlib

from cortex_notifier.adapters.deliveries import AttemptResult, DeliveryRepository
from runtime.background import stop_if_cancelled
from runtime.logging import get_logger

log = get_logger(__name__)


class Recorder:
    """`await record(result)` returns once the attempt is committed."""

    def __init__(self, deliveries: DeliveryRepository, scale: float, max_batch: int = 500) -> None:
        self._deliveries, self._scale, self._max_batch = deliveries, scale, max_batch
        self._queue: asyncio.Queue[tuple[AttemptResult, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._write())

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout=5)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def record(self, result: AttemptResult) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((result, future))
        await future

    async def _write(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._deliveries.record([r for r, _ in batch], self._scale)
            except Exception as exc:
                stop_if_cancelled()
                # Unrecorded attempts are sent again when their lease ends: at least once.
                log.exception("record.failed", size=len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()
