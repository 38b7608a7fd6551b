"""Tasks that live as long as their service: started with it, cancelled when it stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from runtime.logging import get_logger

log = get_logger(__name__)


class BackgroundTask:
    def __init__(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._work = work
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def every(
    interval: float,
    step: Callable[[], Awaitable[object]],
    name: str,
    retry_after: float | None = None,
) -> BackgroundTask:
    """Run `step` every `interval` seconds; a failing step is logged and tried again after
    `retry_after` (default: the interval)."""

    async def loop() -> None:
        while True:
            try:
                await step()
                pause = interval
            except Exception as exc:
                stop_if_cancelled()
                log.warning("background.failed", task=name, error=f"{type(exc).__name__}: {exc}")
                pause = interval if retry_after is None else min(retry_after, interval)
            await asyncio.sleep(pause)

    return BackgroundTask(loop)


async def wait_set(event: asyncio.Event, timeout: float) -> bool:
    """Wait up to `timeout` seconds for `event`: True once it is set, False on timeout.

    Not `asyncio.wait_for(event.wait(), timeout)`: on Python 3.11, when the task is cancelled
    in the moment the event is set, wait_for returns instead of raising, the cancellation is
    lost, and a stopping loop runs on (a provider's claim loop held its service's stop for a
    whole claim interval, and once for good: decision 71). A timeout scope tells its own
    deadline from a cancellation."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


def stop_if_cancelled() -> None:
    """First thing in a long-lived loop's `except Exception`: if this task was asked to stop,
    stop. Some libraries turn a cancellation into another error (asyncpg refusing the
    rollback of a cancelled commit); caught as a failure to retry, it kept the loop, and so a
    stopping service, alive forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling() > 0:
        raise asyncio.CancelledError
