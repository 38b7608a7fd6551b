"""Bearer auth and injected faults for every API route (the control routes are exempt)."""

from __future__ import annotations

import asyncio
import random

from aiohttp import web

from devnets.render.http import Handler, error_response
from devnets.render.platform import RenderPlatform

PLATFORM = web.AppKey("platform", RenderPlatform)
RANDOM = web.AppKey("random", random.Random)
RETRY_AFTER_SECONDS = "1"


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Faults first (an offline API cannot check keys), then the bearer token."""
    if request.path.startswith("/control/"):
        return await handler(request)
    platform = request.app[PLATFORM]
    faults = platform.faults
    if faults.offline:
        return error_response(503, "Service Unavailable")
    if faults.slow_ms:
        await asyncio.sleep(faults.slow_ms / 1000)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or token.strip() != platform.settings.api_key:
        return error_response(401, "Unauthorized")
    dice = request.app[RANDOM]
    if faults.rate_limit_rate and dice.random() < faults.rate_limit_rate:
        return error_response(429, "Rate limit exceeded", {"Retry-After": RETRY_AFTER_SECONDS})
    if faults.api_error_rate and dice.random() < faults.api_error_rate:
        return error_response(500, "Internal Server Error (injected)")
    return await handler(request)
