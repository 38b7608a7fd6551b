"""What every request handler needs, and the scope check."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from nats.aio.client import Client as NATS

from contracts.errors import ApiError, ErrorCode
from contracts.job import SpecLimits
from contracts.reports import NetworkPrice
from cortex_gateway.auth.keys import ApiKey, KeyStore
from cortex_gateway.auth.rate_limit import RateLimiter
from cortex_gateway.follow import LogHub
from cortex_gateway.health import HealthMonitor
from cortex_gateway.intake import CreateCoalescer
from cortex_gateway.providers import ProviderHealth
from cortex_gateway.settings import GatewaySettings
from runtime.kv import KeyValueMirror


@dataclass
class GatewayContext:
    settings: GatewaySettings
    nc: NATS
    keys: KeyStore
    limiter: RateLimiter
    health: HealthMonitor
    limits: SpecLimits
    providers: ProviderHealth
    prices: KeyValueMirror[NetworkPrice]
    intake: CreateCoalescer
    logs_hub: LogHub

    @staticmethod
    def of(request: web.Request) -> GatewayContext:
        return request.app[CONTEXT]


CONTEXT = web.AppKey("context", GatewayContext)
API_KEY = web.RequestKey("api_key", ApiKey)
REQUEST_ID = web.RequestKey("request_id", str)
RATE_HEADERS = web.RequestKey("rate_headers", dict)


def require(request: web.Request, scope: str) -> ApiKey:
    """The caller's key, if it holds `scope`; else 403 FORBIDDEN."""
    key = request[API_KEY]
    if not key.allows(scope):
        raise ApiError(
            ErrorCode.FORBIDDEN,
            f"This API key lacks the {scope!r} scope",
            {"requiredScope": scope, "scopes": sorted(key.scopes)},
        )
    return key
