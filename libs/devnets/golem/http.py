"""HTTP helpers shared by the three yagna API roots: error shape, auth, faults, parsing."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from devnets.golem.faults import Faults

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_ROOTS = ("/market-api/v1/", "/activity-api/v1/", "/payment-api/v1/")
DEFAULT_POLL_TIMEOUT = 5.0  # yagna's default for long-poll calls
MAX_POLL_TIMEOUT = 60.0


class ApiError(Exception):
    """Ends a request with yagna's error shape `{message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> web.Response:
    """A `{message}` JSON response (ya-client's ErrorMessage)."""
    return web.json_response({"message": message}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn ApiError into `{message}` responses."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message)


def gate_middleware(app_key: str, faults: Callable[[], Faults], dice: random.Random) -> Middleware:
    """Faults and the bearer app-key check for the three API roots (not /control)."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_ROOTS):
            return await handler(request)
        current = faults()
        if current.offline:
            return error_response(503, "yagna daemon is not running (injected)")
        if current.slow_ms:
            await asyncio.sleep(current.slow_ms / 1000)
        if presented_key(request) != app_key:
            return error_response(401, "Invalid application key")
        if current.rate_limit_rate and dice.random() < current.rate_limit_rate:
            return error_response(429, "Too many requests (injected)")
        if current.api_error_rate and dice.random() < current.api_error_rate:
            return error_response(500, "Internal server error (injected)")
        return await handler(request)

    return gate


def presented_key(request: web.Request) -> str | None:
    """The app-key from `Authorization: Bearer` or the `authToken` query parameter."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.query.get("authToken")


async def json_body(request: web.Request) -> Any:
    """The request body as JSON, or a 400."""
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "Request body must be JSON") from None


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 (an empty body is `{}`)."""
    if not request.can_read_body:
        return {}
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body


def poll_timeout(request: web.Request) -> float:
    """The `timeout` query parameter (seconds, float, default 5), capped."""
    raw = request.query.get("timeout")
    if raw is None:
        return DEFAULT_POLL_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"timeout must be a number, got {raw!r}") from None
    return min(max(value, 0.0), MAX_POLL_TIMEOUT)


def max_events(request: web.Request, default: int = 100) -> int:
    """The `maxEvents` query parameter."""
    raw = request.query.get("maxEvents", str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"maxEvents must be an integer, got {raw!r}") from None
    if value < 1:
        raise ApiError(400, "maxEvents must be positive")
    return value


def after_timestamp(request: web.Request) -> datetime | None:
    """The `afterTimestamp` query parameter as an aware datetime."""
    raw = request.query.get("afterTimestamp")
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"afterTimestamp must be RFC 3339, got {raw!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def now() -> datetime:
    """Current UTC time."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 with microseconds and `Z`, as yagna writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
