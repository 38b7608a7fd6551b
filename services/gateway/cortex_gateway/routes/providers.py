"""`/api/plugin-core/providers`: the networks this deployment runs, their health and prices."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from contracts.reports import NetworkHealth
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import json_body, object_body, ok, validation
from cortex_gateway.routes.jobs import list_query, paginated
from cortex_gateway.window import Windows
from runtime.messaging import call_rpc

NAMES = {"akash": "Akash Network", "render": "Render", "golem": "Golem Network"}
STATUSES = {s.value for s in NetworkHealth}
PROVIDER_WINDOWS = Windows(
    periods={"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 86400, "30d": 30 * 86400},
    resolutions={"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400},
    max_points=1000,
    default_period="24h",
    default_resolution="1h",
)


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
    """The current price, with min/max/avg over 7 and 30 days (null when the provider service
    cannot be asked right now: the current price is still worth showing)."""
    ctx = GatewayContext.of(request)
    require(request, "jobs:read")
    network = _network(request)
    pricing = _pricing(ctx, network)
    if pricing is None:
        raise ApiError(
            ErrorCode.PROVIDER_UNAVAILABLE, f"No price known for {network} yet", {"id": network}
        )
    subject = subjects.provider_rpc(network, "pricing")
    try:
        history = await call_rpc(ctx.nc, subject, {}, ctx.settings.rpc_timeout)
    except ApiError:
        history = None
    return ok({"id": network, **pricing, "history": history})


async def get_metrics(request: web.Request) -> web.Response:
    """Latency, availability and jobs ended per bucket, from the provider service's history."""
    ctx = GatewayContext.of(request)
    require(request, "jobs:read")
    network = _network(request)
    period, resolution = PROVIDER_WINDOWS.parse(request.query)
    body = {
        "periodSeconds": PROVIDER_WINDOWS.periods[period],
        "resolutionSeconds": PROVIDER_WINDOWS.resolutions[resolution],
    }
    subject = subjects.provider_rpc(network, "metrics")
    points = await call_rpc(ctx.nc, subject, body, ctx.settings.rpc_timeout)
    return ok({"id": network, "period": period, "resolution": resolution, "points": points})


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


# --- admin: a provider's configuration, applied by its running service (docs/providers.md) ---


async def create_provider(request: web.Request) -> web.Response:
    """Configure a network this deployment runs (its service must be running)."""
    ctx = GatewayContext.of(request)
    require(request, "admin")
    body = object_body(await json_body(request, ctx.settings.max_body_bytes))
    unknown = sorted(set(body) - {"id", "type", "config"})
    if unknown:
        raise validation(f"unknown field {unknown[0]!r}", unknown[0], "unknown")
    network = body.get("id", body.get("type"))
    if network not in ctx.settings.provider_set:
        names = ", ".join(sorted(ctx.settings.provider_set))
        raise validation(
            f"id must be one of the networks this deployment runs: {names}", "id", "enum"
        )
    view = await _admin(ctx, str(network), "config.create", {"config": body.get("config")})
    return ok(view, status=201)


async def update_provider(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    require(request, "admin")
    network = _network(request)
    body = object_body(await json_body(request, ctx.settings.max_body_bytes))
    unknown = sorted(set(body) - {"config"})
    if unknown:
        raise validation(f"unknown field {unknown[0]!r}; send {{config}}", unknown[0], "unknown")
    return ok(await _admin(ctx, network, "config.update", {"config": body.get("config")}))


async def delete_provider(request: web.Request) -> web.Response:
    """Drop the stored configuration: the network runs on the deployment's settings again."""
    ctx = GatewayContext.of(request)
    require(request, "admin")
    return ok(await _admin(ctx, _network(request), "config.delete", {}))


async def get_provider_config(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    require(request, "admin")
    return ok(await _admin(ctx, _network(request), "config.get", {}))


async def _admin(ctx: GatewayContext, network: str, verb: str, body: dict[str, Any]) -> Any:
    subject = subjects.provider_rpc(network, verb)
    return await call_rpc(ctx.nc, subject, body, ctx.settings.rpc_timeout)
