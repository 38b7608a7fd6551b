"""`/api/plugin-core/providers`: the networks this deployment runs, their health and prices."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from contracts.reports import NetworkHealth
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import ok, validation
from cortex_gateway.routes.jobs import list_query, paginated
from runtime.messaging import call_rpc

NAMES = {"akash": "Akash Network", "render": "Render", "golem": "Golem Network"}
STATUSES = {s.value for s in NetworkHealth}


def _status(ctx: GatewayContext, network: str) -> dict[str, Any]:
    found = ctx.providers.get(network)
    if found is None:
        return {"status": "offline", "latencyMs": None, "errorRate": None, "lastChecked": None,
                "message": "no health report yet"}  # fmt: skip
    return {
        "status": found.status.value,
        "latencyMs": found.latency_ms,
        "errorRate": found.error_rate,
        "lastChecked": found.checked_at,
        "message": found.message,
    }


def _pricing(ctx: GatewayContext, network: str) -> dict[str, Any] | None:
    price = ctx.prices.get(network)
    if price is None:
        return None
    return {
        "cpu": price.cpu_core_hour,
        "memory": price.memory_gb_hour,
        "storage": price.storage_gb_hour,
        "gpu": price.gpu_hour,
        "unit": {"cpu": "core-hour", "memory": "GB-hour", "storage": "GB-hour", "gpu": "GPU-hour"},
        "currency": "USD",
        "lastUpdated": price.updated_at,
    }


def _provider(ctx: GatewayContext, network: str) -> dict[str, Any]:
    return {
        "id": network,
        "name": NAMES.get(network, network),
        "type": network,
        **_status(ctx, network),
        "pricing": _pricing(ctx, network),
    }


def _network(request: web.Request) -> str:
    ctx = GatewayContext.of(request)
    network = request.match_info["provider_id"]
    if network not in ctx.settings.provider_set:
        raise ApiError(
            ErrorCode.PROVIDER_NOT_FOUND, f"Provider {network} not found", {"id": network}
        )
    return network


async def list_providers(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    require(request, "jobs:read")
    unknown = sorted(set(request.query) - {"status", "type"})
    if unknown:
        raise validation(
            f"Unknown query parameter {unknown[0]!r}; allowed: status, type",
            unknown[0],
            "unknown_parameter",
        )
    wanted_status = request.query.get("status")
    if wanted_status is not None and wanted_status not in STATUSES:
        raise validation(f"status must be one of {', '.join(sorted(STATUSES))}", "status", "enum")
    found = [_provider(ctx, n) for n in sorted(ctx.settings.provider_set)]
    found = [
        p
        for p in found
        if (wanted_status is None or p["status"] == wanted_status)
        and request.query.get("type") in (None, p["type"])
    ]
    return ok(found)


async def get_provider(request: web.Request) -> web.Response:
    require(request, "jobs:read")
    return ok(_provider(GatewayContext.of(request), _network(request)))


async def get_status(request: web.Request) -> web.Response:
    require(request, "jobs:read")
    network = _network(request)
    return ok({"id": network, **_status(GatewayContext.of(request), network)})


async def get_pricing(request: web.Request) -> web.Response:
    require(request, "jobs:read")
    network = _network(request)
    pricing = _pricing(GatewayContext.of(request), network)
    if pricing is None:
        raise ApiError(
            ErrorCode.PROVIDER_UNAVAILABLE, f"No price known for {network} yet", {"id": network}
        )
    return ok({"id": network, **pricing})


async def provider_jobs(request: web.Request) -> web.Response:
    """The caller's jobs on this network (same filters and paging as `GET /jobs`)."""
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    network = _network(request)
    if "provider" in request.query:
        raise validation("provider is given by the path here", "provider", "unknown_parameter")
    query = list_query(request.query, ctx)
    query.update(tenant=key.tenant, providers=[network])
    result = await call_rpc(ctx.nc, subjects.RPC_JOB_LIST, query, ctx.settings.rpc_timeout)
    return paginated(result, query)
