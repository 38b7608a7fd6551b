"""The seed's envelope: `{success, data, meta}` and `{success: false, error}`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts.errors import ApiError, ErrorCode
from runtime import codec


def ok(data: Any, status: int = 200, meta: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"success": True, "data": data}
    if meta is not None:
        body["meta"] = meta
    return web.Response(body=codec.dumps(body), status=status, content_type="application/json")


def error(exc: ApiError) -> web.Response:
    body = {"success": False, "error": exc.to_dict()}
    return web.Response(
        body=codec.dumps(body), status=exc.http_status, content_type="application/json"
    )


def validation(message: str, field: str, rule: str) -> ApiError:
    return ApiError(
        ErrorCode.VALIDATION_ERROR, message, [{"field": field, "rule": rule, "message": message}]
    )


async def json_body(request: web.Request, max_bytes: int) -> Any:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    if request.content_type != "application/json":
        raise validation(
            f"Content-Type must be application/json, not {request.content_type or 'missing'}",
            "Content-Type",
            "content_type",
        )
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes)
    # aiohttp itself refuses bodies over client_max_size (set above max_bytes) while reading.
    raw = await request.read()
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    try:
        return codec.loads(raw)
    except ValueError:
        raise validation("Request body is not valid JSON", "body", "json") from None


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"Request body is larger than {max_bytes} bytes",
        [{"field": "body", "rule": "max_bytes", "message": f"at most {max_bytes} bytes"}],
    )


def object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation("Request body must be a JSON object", "body", "object")
    return body
