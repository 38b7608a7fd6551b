"""Request id and error envelope, then authentication and rate limiting."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import Counter, Histogram

from contracts.errors import ApiError, ErrorCode
from cortex_gateway.context import API_KEY, RATE_HEADERS, REQUEST_ID, GatewayContext
from cortex_gateway.responses import error
from runtime.logging import get_logger
from runtime.tracing import REQUEST_ID_HEADER, new_request_id

log = get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC_PATHS = frozenset({"/healthz", "/metrics"})

REQUESTS = Counter("cortex_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "cortex_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, the error envelope and the request metrics, in one layer (it runs on
    every request, so one coroutine frame instead of two)."""
    request_id = request.headers.get("X-Request-Id") or new_request_id()
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service="gateway", request_id=request_id)
    started = time.perf_counter()
    try:
        response = await handler(request)
    except Exception as exc:  # every failure leaves in the seed's envelope
        response = _failure(exc, request)
    response.headers["X-Request-Id"] = request_id
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    _observe(request.method, route, response.status, time.perf_counter() - started)
    return response


def _failure(exc: Exception, request: web.Request) -> web.StreamResponse:
    """The error envelope for whatever a handler raised; nothing leaks a stack trace."""
    if isinstance(exc, ApiError):
        return _with_headers(error(exc), request)
    if isinstance(exc, web.HTTPNotFound):
        return error(ApiError(ErrorCode.NOT_FOUND, f"No route for {request.method} {request.path}"))
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        response = error(
            ApiError(
                ErrorCode.METHOD_NOT_ALLOWED,
                f"{request.method} is not allowed here; use {allowed}",
            )
        )
        response.headers["Allow"] = allowed
        return response
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return error(ApiError(ErrorCode.PAYLOAD_TOO_LARGE, "Request body is too large"))
    if isinstance(exc, web.HTTPException):
        return error(ApiError(ErrorCode.VALIDATION_ERROR, exc.reason))
    log.exception("http.unhandled", path=request.path, exc_info=exc)
    return error(ApiError(ErrorCode.INTERNAL_ERROR, "Internal error"))


# prometheus-client's `labels()` takes a lock and builds a key on every call; the label
# sets are few (method x route x status), so their children are kept here.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _observe(method: str, route: str, status: int, seconds: float) -> None:
    found = _children.get((method, route, status))
    if found is None:
        found = REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)
        _children[(method, route, status)] = found
    found[0].inc()
    found[1].observe(seconds)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    ctx = GatewayContext.of(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            ErrorCode.UNAUTHORIZED, "Missing API key: send 'Authorization: Bearer <key>'"
        )
    key = await ctx.keys.authenticate(token.strip())
    if key is None:
        raise ApiError(ErrorCode.UNAUTHORIZED, "Invalid or revoked API key")
    request[API_KEY] = key
    structlog.contextvars.bind_contextvars(tenant=key.tenant, key_id=key.id)
    limit = ctx.settings.rate_limit_for(key.tenant)
    decision = ctx.limiter.check(key.id, limit.rate, limit.burst)
    request[RATE_HEADERS] = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_seconds),
    }
    if not decision.allowed:
        request[RATE_HEADERS]["Retry-After"] = str(decision.retry_after)
        raise ApiError(
            ErrorCode.RATE_LIMIT_EXCEEDED,
            f"Rate limit of {limit.rate:g} requests/s (burst {limit.burst}) exceeded; "
            f"retry after {decision.retry_after} s",
            {"retryAfter": decision.retry_after},
        )
    response = await handler(request)
    return _with_headers(response, request)


def _with_headers(response: web.StreamResponse, request: web.Request) -> web.StreamResponse:
    if not response.prepared:
        response.headers.update(request.get(RATE_HEADERS, {}))
    return response


__all__ = ["REQUEST_ID_HEADER", "authenticate", "request_context"]
