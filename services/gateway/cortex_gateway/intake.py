"""Coalesce concurrent `POST /jobs` into one request to the scheduler.

Under load many creates are in flight at once; sending them as one NATS request saves a
round trip, a task and an encode/decode per job on both sides. No artificial wait: a sender
takes whatever has queued while the previous request was out, so a lone create goes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from nats.aio.client import Client as NATS

from contracts import subjects
from contracts.errors import ApiError
from runtime.background import stop_if_cancelled
from runtime.messaging import call_rpc

MAX_BATCH = 256
SENDERS = 4  # requests in flight at once


class CreateCoalescer:
    def __init__(self, nc: NATS, timeout: float) -> None:
        self._nc, self._timeout = nc, timeout
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[Any]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._send_batches()) for _ in range(SENDERS)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def create(self, payload: dict[str, Any]) -> Any:
        """The scheduler's answer for one create (raises its ApiError)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((payload, future))
        return await future

    async def _send_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await call_rpc(
                    self._nc,
                    subjects.RPC_JOB_CREATE_MANY,
                    {"jobs": [payload for payload, _ in batch]},
                    self._timeout,
                )
            except Exception as exc:  # no answer at all: every caller gets the same error
                stop_if_cancelled()
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if result["ok"]:
                    future.set_result(result["data"])
                else:
                    future.set_exception(ApiError.from_dict(result["error"]))
