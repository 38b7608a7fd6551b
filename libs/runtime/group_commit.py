"""Group commit: writes submitted while one is in flight go out together as the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Each `submit` returns once its item is written, as if written alone.

    No waiting to fill a group: the first item is written at once, and whatever arrives
    during that write is written next in one call. Under load many concurrent writers share
    a statement and a commit; alone, a writer pays what it paid before. When a group's write
    fails, its items are written one by one, so only a bad item's submitter sees the error
    (`split_failures=False`: every submitter gets the group's error, for writes that fail as
    a whole, such as a broker that does not answer).
    """

    def __init__(
        self, write: Callable[[list[T]], Awaitable[None]], split_failures: bool = True
    ) -> None:
        self._write, self._split = write, split_failures
        self._queue: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())
        await future

    async def _drain(self) -> None:
        group: list[tuple[T, asyncio.Future[None]]] = []
        try:
            while self._queue:
                group, self._queue = self._queue, []
                await self._write_group(group)
        except asyncio.CancelledError:  # shutting down: nobody may wait forever
            for _, future in [*group, *self._queue]:
                future.cancel()
            self._queue = []
            raise
        finally:
            self._writer = None

    async def _write_group(self, group: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await self._write([item for item, _ in group])
        except Exception as exc:
            if len(group) == 1 or not self._split:
                for _, future in group:
                    _settle(future, exc)
                return
            for entry in group:
                await self._write_group([entry])
            return
        for _, future in group:
            _settle(future, None)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # its submitter was cancelled: nobody waits for the answer
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
