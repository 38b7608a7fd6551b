"""An append-only, bounded sequence that many asyncio readers can follow live."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from itertools import islice
from typing import Generic, TypeVar

T = TypeVar("T")


class Feed(Generic[T]):
    """Items get consecutive sequence numbers from 1; only the last `capacity` are kept."""

    def __init__(self, capacity: int) -> None:
        self._items: deque[T] = deque(maxlen=capacity)
        self._next_seq = 1
        self._closed = False
        # Replaced on every change: a reader waits on the event current when it found nothing new.
        self._changed = asyncio.Event()

    @property
    def next_seq(self) -> int:
        """Sequence number the next appended item gets."""
        return self._next_seq

    @property
    def first_seq(self) -> int:
        """Sequence number of the oldest retained item."""
        return self._next_seq - len(self._items)

    @property
    def closed(self) -> bool:
        """True once no more items will be appended."""
        return self._closed

    def append(self, item: T) -> None:
        """Add an item (ignored after close) and wake followers."""
        if self._closed:
            return
        self._items.append(item)
        self._next_seq += 1
        self._notify()

    def extend(self, items: list[T]) -> None:
        """`append` for several items, waking followers once."""
        if self._closed or not items:
            return
        self._items.extend(items)
        self._next_seq += len(items)
        self._notify()

    def close(self) -> None:
        """Mark the end of the sequence; followers finish once they have read everything."""
        if not self._closed:
            self._closed = True
            self._notify()

    def after(self, seq: int) -> list[T]:
        """Retained items whose sequence number is greater than `seq`, oldest first."""
        wanted = self._next_seq - max(seq + 1, self.first_seq)
        if wanted <= 0:
            return []
        # From the right: a follower wants the newest few of up to `capacity` items, and
        # slicing a deque from the left walks everything before them.
        newest = list(islice(reversed(self._items), wanted))
        newest.reverse()
        return newest

    def tail(self, count: int) -> list[T]:
        """The last `count` retained items (all of them when count < 0)."""
        if count < 0:
            return list(self._items)
        return self.after(self._next_seq - 1 - count)

    async def follow(self, from_seq: int = 0) -> AsyncIterator[T]:
        """Yield items after `from_seq`, then live ones, until closed and drained."""
        async for batch in self.follow_batches(from_seq):
            for item in batch:
                yield item

    async def follow_batches(self, from_seq: int = 0) -> AsyncIterator[list[T]]:
        """Items after `from_seq`, then live ones, everything available at once as one list
        (a busy writer's lines cost one wake-up per batch, not one per line)."""
        cursor = from_seq
        while True:
            changed = self._changed
            batch = self.after(cursor)
            if batch:
                cursor = max(cursor + 1, self.first_seq) + len(batch) - 1
                yield batch
                continue
            if self._closed:
                return
            await changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
