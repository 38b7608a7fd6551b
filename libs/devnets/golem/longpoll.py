"""Long-poll waits over a `Feed`: return when a condition holds or the timeout passes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import TypeVar, cast

from devnets.feed import Feed

T = TypeVar("T")


async def wait_until(feed: Feed[T], ready: Callable[[], bool], timeout: float) -> bool:
    """Wait for `ready()` re-checking on every append to `feed`; False on timeout/close."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not ready():
        remaining = deadline - loop.time()
        if feed.closed or remaining <= 0:
            return ready()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await _next_append(feed)
    return True


async def _next_append(feed: Feed[T]) -> None:
    # Feed.follow wakes on the next append (or close); the first new item is all we need.
    items = cast(AsyncGenerator[T, None], feed.follow(feed.next_seq - 1))  # an async generator
    async with contextlib.aclosing(items):
        async for _ in items:
            return
