"""HTTP helpers: Render's `{id, message}` errors, bodies, query values, cursor pagination."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from devnets.render.clock import parse_time

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class ApiError(Exception):
    """Ends a request with Render's error shape `{id, message}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn ApiError into `{id, message}` responses."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.headers)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A `{id, message}` JSON response; `id` identifies this error occurrence."""
    body = {"id": str(uuid.uuid4()), "message": message}
    return web.json_response(body, status=status, headers=headers)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object (empty when there is none), or a 400."""
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def query_list(request: web.Request, name: str) -> list[str]:
    """A list filter: repeated (`a=1&a=2`) and/or comma-separated values."""
    return [v.strip() for raw in request.query.getall(name, []) for v in raw.split(",") if v]


def query_time(request: web.Request, name: str) -> datetime | None:
    """An optional RFC 3339 / Unix-seconds query value, or a 400."""
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise ApiError(400, f"{name} must be an RFC 3339 time, got {value!r}") from None


def query_number(request: web.Request, name: str, default: float) -> float:
    """An optional positive number from the query, or a 400."""
    value = request.query.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ApiError(400, f"{name} must be a number, got {value!r}") from None
    if number <= 0:
        raise ApiError(400, f"{name} must be positive")
    return number


def query_limit(request: web.Request) -> int:
    """`limit` clamped to 1..100 (Render's bounds), default 20."""
    return max(1, min(int(query_number(request, "limit", DEFAULT_LIMIT)), MAX_LIMIT))


def paginate(
    request: web.Request, items: Sequence[tuple[str, dict[str, Any]]], key: str
) -> web.Response:
    """`[{cursor, <key>: item}]` after the `cursor` query value, at most `limit` long."""
    cursor = request.query.get("cursor")
    start = 0
    if cursor:
        positions = [i for i, (item_cursor, _) in enumerate(items) if item_cursor == cursor]
        if not positions:
            raise ApiError(400, f"invalid cursor {cursor!r}")
        start = positions[0] + 1
    page = items[start : start + query_limit(request)]
    return web.json_response([{"cursor": c, key: item} for c, item in page])
