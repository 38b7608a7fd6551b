"""Every log entry of the workspace, queryable by time window and followable live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from devnets.feed import Feed
from devnets.render.clock import MICROSECOND, iso, new_id, now

Direction = Literal["forward", "backward"]
LABEL_FILTERS = ("instance", "level", "type", "host", "statusCode", "method", "path")


@dataclass(frozen=True)
class LogEntry:
    """One log line with its labels; `resources` are the ids a `resource` filter matches."""

    seq: int
    id: str
    timestamp: datetime
    message: str
    owner_id: str
    labels: tuple[tuple[str, str], ...]
    resources: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        """`{id, timestamp, message, labels: [{name, value}]}`."""
        return {
            "id": self.id,
            "timestamp": iso(self.timestamp),
            "message": self.message,
            "labels": [{"name": name, "value": value} for name, value in self.labels],
        }


@dataclass
class LogFilter:
    """The filters `/logs` and `/logs/subscribe` share; empty lists match everything."""

    owner_id: str
    resources: list[str] = field(default_factory=list)
    labels: dict[str, list[str]] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)

    def matches(self, entry: LogEntry) -> bool:
        """True when the entry passes every given filter."""
        if entry.owner_id != self.owner_id:
            return False
        if self.resources and not entry.resources.intersection(self.resources):
            return False
        labels = dict(entry.labels)
        for name, values in self.labels.items():
            if values and labels.get(name) not in values:
                return False
        return not self.text or any(t in entry.message for t in self.text)


@dataclass(frozen=True)
class LogPage:
    """One `/logs` answer."""

    logs: list[LogEntry]
    has_more: bool
    next_start: datetime
    next_end: datetime


class LogStore:
    """Bounded, strictly time-ordered entries: equal timestamps would break time paging."""

    def __init__(self, capacity: int) -> None:
        self._feed: Feed[LogEntry] = Feed(capacity)
        self._last: datetime | None = None

    def append(
        self,
        owner_id: str,
        message: str,
        labels: dict[str, str],
        resources: set[str],
        at: datetime | None = None,
    ) -> LogEntry:
        """Add an entry; its timestamp is bumped to stay after the previous one."""
        moment = at or now()
        if self._last is not None and moment <= self._last:
            moment = self._last + MICROSECOND
        self._last = moment
        entry = LogEntry(
            seq=self._feed.next_seq,
            id=new_id("log"),
            timestamp=moment,
            message=message,
            owner_id=owner_id,
            labels=tuple(labels.items()),
            resources=frozenset(resources),
        )
        self._feed.append(entry)
        return entry

    def close(self) -> None:
        """End every live subscription (shutdown)."""
        self._feed.close()

    def query(
        self,
        where: LogFilter,
        start: datetime,
        end: datetime,
        direction: Direction,
        limit: int,
    ) -> LogPage:
        """Up to `limit` matching entries in [start, end], in `direction` order."""
        window = [
            e for e in self._feed.tail(-1) if start <= e.timestamp <= end and where.matches(e)
        ]
        if direction == "backward":
            window.reverse()
        page, has_more = window[:limit], len(window) > limit
        if not page or not has_more:
            return LogPage(page, has_more, start, end)
        if direction == "forward":
            return LogPage(page, True, page[-1].timestamp + MICROSECOND, end)
        return LogPage(page, True, start, page[-1].timestamp - MICROSECOND)

    async def follow(self, where: LogFilter, since: datetime | None) -> AsyncIterator[LogEntry]:
        """Matching entries from `since` (default: only new ones), live, until close()."""
        from_seq = self._feed.next_seq - 1
        if since is not None:
            older = [e.seq for e in self._feed.tail(-1) if e.timestamp < since]
            from_seq = older[-1] if older else self._feed.first_seq - 1
        async for entry in self._feed.follow(from_seq):
            if where.matches(entry):
                yield entry
