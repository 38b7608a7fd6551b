"""`GET /logs` (time-window pages) and `GET /logs/subscribe` (websocket, live entries)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import WSCloseCode, web

from devnets.render.clock import iso, now
from devnets.render.guard import PLATFORM
from devnets.render.http import ApiError, query_limit, query_list, query_time
from devnets.render.logstore import LABEL_FILTERS, Direction, LogEntry, LogFilter

DEFAULT_WINDOW = timedelta(hours=1)  # Render's default when startTime is absent


def add_routes(app: web.Application) -> None:
    """Register the log routes."""
    app.router.add_get("/logs", list_logs)
    app.router.add_get("/logs/subscribe", subscribe)


async def list_logs(request: web.Request) -> web.Response:
    """GET /logs: `{logs, hasMore, nextStartTime, nextEndTime}`; page with the `next*` times."""
    where = log_filter(request)
    end = query_time(request, "endTime") or now()
    start = query_time(request, "startTime") or end - DEFAULT_WINDOW
    direction = _direction(request.query.get("direction", "backward"))
    page = request.app[PLATFORM].logs.query(where, start, end, direction, query_limit(request))
    body: dict[str, Any] = {
        "logs": [entry.to_json() for entry in page.logs],
        "hasMore": page.has_more,
        "nextStartTime": iso(page.next_start),
        "nextEndTime": iso(page.next_end),
    }
    return web.json_response(body)


async def subscribe(request: web.Request) -> web.WebSocketResponse:
    """Websocket: one log entry per text message, live; `startTime` replays from then first."""
    where = log_filter(request)
    since = query_time(request, "startTime")
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    await _stream(ws, request.app[PLATFORM].logs.follow(where, since))
    return ws


def log_filter(request: web.Request) -> LogFilter:
    """The filters both log routes take; `ownerId` is required."""
    owner_id = request.query.get("ownerId")
    if not owner_id:
        raise ApiError(400, "ownerId is required")
    labels = {name: query_list(request, name) for name in LABEL_FILTERS}
    return LogFilter(
        owner_id=owner_id,
        resources=query_list(request, "resource"),
        labels={name: values for name, values in labels.items() if values},
        text=query_list(request, "text"),
    )


async def _stream(ws: web.WebSocketResponse, entries: AsyncIterator[LogEntry]) -> None:
    """Send entries until the store closes (shutdown) or the client goes away."""

    async def send_all() -> None:
        async for entry in entries:
            await ws.send_json(entry.to_json())

    async def until_client_closes() -> None:
        async for _ in ws:
            pass

    sender = asyncio.create_task(send_all())
    watcher = asyncio.create_task(until_client_closes())
    await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in (sender, watcher):
        task.cancel()
    await asyncio.gather(sender, watcher, return_exceptions=True)
    with contextlib.suppress(ConnectionError):
        await ws.close(code=WSCloseCode.OK)


def _direction(value: str) -> Direction:
    if value == "forward":
        return "forward"
    if value == "backward":
        return "backward"
    raise ApiError(400, "direction must be forward or backward")
