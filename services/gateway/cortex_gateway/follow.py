"""Live log lines for SSE followers: one NATS subscription per followed job, shared by all
of its followers, each with a bounded buffer (a follower that falls behind is dropped)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts import subjects
from runtime import codec
from runtime.logging import get_logger

log = get_logger(__name__)
TERMINAL_EVENTS = {
    "job.completed": "completed",
    "job.failed": "failed",
    "job.cancelled": "cancelled",
    "job.expired": "expired",
}
Event = tuple[int, bytes]  # (seq, the rendered SSE event)


def sse_event(seq: int, timestamp: str, stream: str, line: str) -> bytes:
    """`id: <seq>` and the seed's `{timestamp, line}` (plus `stream`) as `data`."""
    data = codec.dumps({"timestamp": timestamp, "line": line, "stream": stream})
    return b"id: %d\ndata: %s\n\n" % (seq, data)


@dataclass(eq=False)
class Follower:
    """What one SSE connection has not sent yet; at most `capacity` bytes of events (shared
    with the job's other followers: they reference the same rendered bytes)."""

    capacity: int
    pending: deque[list[Event]] = field(default_factory=deque)
    size: int = 0
    ended: str | None = None  # the job's terminal status, once announced
    dropped: str | None = None  # why the hub gave up on this follower
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, events: list[Event]) -> None:
        if self.dropped:
            return
        size = sum(len(e) for _, e in events)
        if self.size + size > self.capacity:
            self.pending.clear()
            self.dropped = (
                f"slow reader: more than {self.capacity} bytes of lines were waiting to be "
                "sent; reconnect with Last-Event-ID to resume"
            )
        else:
            self.pending.append(events)
            self.size += size
        self.wake.set()

    def take(self) -> list[Event]:
        out = [e for batch in self.pending for e in batch]
        self.pending.clear()
        self.size = 0
        self.wake.clear()
        return out


@dataclass
class _Topic:
    followers: set[Follower]
    subscriptions: list[Subscription]


class LogHub:
    def __init__(self, nc: NATS, capacity: int) -> None:
        self._nc, self._capacity = nc, capacity
        self._topics: dict[str, _Topic] = {}
        self._lock = asyncio.Lock()

    @property
    def followers(self) -> int:
        return sum(len(t.followers) for t in self._topics.values())

    @contextlib.asynccontextmanager
    async def follow(self, job_id: str) -> AsyncIterator[Follower]:
        """A follower of `job_id`'s live lines, subscribed before this returns."""
        follower = Follower(self._capacity)
        async with self._lock:
            topic = self._topics.get(job_id)
            if topic is None:
                topic = self._topics[job_id] = _Topic(set(), [])
                topic.subscriptions = await self._subscribe(job_id, topic)
            topic.followers.add(follower)
        try:
            yield follower
        finally:
            async with self._lock:
                topic.followers.discard(follower)
                if not topic.followers and self._topics.get(job_id) is topic:
                    del self._topics[job_id]
                    for subscription in topic.subscriptions:
                        with contextlib.suppress(Exception):
                            await subscription.unsubscribe()

    async def _subscribe(self, job_id: str, topic: _Topic) -> list[Subscription]:
        async def on_logs(msg: Msg) -> None:
            try:
                records = codec.loads(msg.data)["records"]
                events = [sse_event(int(r[0]), r[1], r[2], r[3]) for r in records]
                seqs = [int(r[0]) for r in records]
            except (ValueError, KeyError, TypeError, IndexError):
                log.warning("follow.malformed_logs", subject=msg.subject)
                return
            batch = list(zip(seqs, events, strict=True))  # rendered once for every follower
            for follower in list(topic.followers):
                follower.offer(batch)

        async def on_event(msg: Msg) -> None:
            try:
                status = TERMINAL_EVENTS.get(codec.loads(msg.data).get("type", ""))
            except ValueError:
                return
            if status:
                for follower in list(topic.followers):
                    follower.ended = status
                    follower.wake.set()

        return [
            await self._nc.subscribe(
                subjects.job_logs(job_id),
                cb=on_logs,
                pending_msgs_limit=100_000,
                pending_bytes_limit=256 * 1024 * 1024,
            ),
            await self._nc.subscribe(subjects.job_event(job_id, "*"), cb=on_event),
        ]
