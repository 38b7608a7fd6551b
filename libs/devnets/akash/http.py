"""HTTP helpers shared by the devnet's APIs: error shape, envelopes, body and path parsing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from devnets.akash.state import MarketError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ERROR_NAMES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    404: "NotFoundError",
    409: "ConflictError",
    429: "TooManyRequestsError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}


class ApiError(Exception):
    """Ends a request with the Console error shape `{error, message}`."""

    def __init__(self, status: int, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error or ERROR_NAMES.get(status, "Error")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn ApiError / MarketError into `{error, message}` responses."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.error)
    except MarketError as exc:
        return error_response(exc.status, str(exc), exc.error)


def error_response(status: int, message: str, error: str | None = None) -> web.Response:
    """A `{error, message}` JSON response."""
    return web.json_response(
        {"error": error or ERROR_NAMES.get(status, "Error"), "message": message}, status=status
    )


def data(payload: Any, status: int = 200) -> web.Response:
    """A `{data: ...}` JSON response (orjson: the devnet answers every Console call)."""
    body = orjson.dumps({"data": payload}, option=orjson.OPT_NON_STR_KEYS)
    return web.Response(body=body, status=status, content_type="application/json")


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400."""
    try:
        body = await request.json(loads=orjson.loads)
    except ValueError:
        raise ApiError(400, "Request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body


def data_field(body: dict[str, Any]) -> dict[str, Any]:
    """The `data` object of a wrapped request body, or a 400."""
    inner = body.get("data")
    if not isinstance(inner, dict):
        raise ApiError(400, "Request body must be {data: {...}}")
    return inner


def parse_int(value: Any, name: str) -> int:
    """An integer from a path/query/body value (dseq arrives as a string), or a 400."""
    try:
        number = int(str(value))
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {value!r}") from None
    if number < 0:
        raise ApiError(400, f"{name} must not be negative")
    return number
