"""The `Idempotency-Key` header: what the scheduler needs to recognise a repeated request."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from aiohttp import web

from cortex_gateway.responses import ok, validation

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def idempotency(request: web.Request, body: Any) -> dict[str, str] | None:
    """`{key, hash}` when the request carries a key: the hash covers method, path and the
    canonical body (sorted keys), so the same key with another request is told apart."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise validation(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters", HEADER, "format"
        )
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode() + canonical)
    return {"key": key, "hash": digest.hexdigest()}


def answer(reply: dict[str, Any]) -> web.Response:
    """The scheduler's `{status, data, replayed}` as the HTTP answer (a replay is the
    original status and body, marked by a header)."""
    response = ok(reply["data"], status=int(reply["status"]))
    if reply.get("replayed"):
        response.headers[REPLAYED_HEADER] = "true"
    return response
