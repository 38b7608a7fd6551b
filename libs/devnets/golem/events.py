"""Timestamp-filtered event queries (`afterTimestamp`, `maxEvents`, long-poll `timeout`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from devnets.feed import Feed
from devnets.golem.http import after_timestamp, max_events, poll_timeout
from devnets.golem.longpoll import wait_until


async def events_after(feed: Feed[dict[str, Any]], request: web.Request) -> list[dict[str, Any]]:
    """Events newer than `afterTimestamp`, waiting up to `timeout` for the first one."""
    after = after_timestamp(request)
    limit = max_events(request)

    def select() -> list[dict[str, Any]]:
        return [e for e in feed.tail(-1) if after is None or _date(e) > after][:limit]

    await wait_until(feed, lambda: bool(select()), poll_timeout(request))
    return select()


def _date(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["eventDate"]).replace("Z", "+00:00"))
