"""The Console API (`/v1/...`): managed-wallet deployments, bids, leases, providers, JWTs."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from aiohttp import web

from devnets.akash.http import (
    ApiError,
    Handler,
    data,
    data_field,
    error_response,
    json_body,
    parse_int,
)
from devnets.akash.network import AkashNetwork
from devnets.akash.sdl import Group, SdlError, parse_sdl
from devnets.akash.views import bid_view, deployment_view

NETWORK = web.AppKey("network", AkashNetwork)
RANDOM = web.AppKey("random", random.Random)

MAX_TTL_SECONDS = 7 * 24 * 3600


def add_routes(app: web.Application) -> None:
    """Register the Console routes."""
    app.router.add_post("/v1/deployments", create_deployment)
    app.router.add_get("/v1/deployments", list_deployments)
    app.router.add_get("/v1/deployments/{dseq}", get_deployment)
    app.router.add_delete("/v1/deployments/{dseq}", close_deployment)
    app.router.add_post("/v1/deposit-deployment", deposit)
    app.router.add_get("/v1/bids", list_bids)
    app.router.add_get("/v1/bids/{dseq}", list_bids)
    app.router.add_post("/v1/leases", create_leases)
    app.router.add_get("/v1/providers/{address}", get_provider)
    app.router.add_post("/v1/create-jwt-token", create_jwt)
    app.router.add_post("/v1/pricing", pricing)


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Faults and the api-key check for `/v1` routes."""
    if not request.path.startswith("/v1/"):
        return await handler(request)
    network = request.app[NETWORK]
    faults = network.faults
    if faults.offline:
        return error_response(503, "Console API is unavailable")
    if faults.slow_ms:
        await asyncio.sleep(faults.slow_ms / 1000)
    if request.headers.get("x-api-key") != network.settings.api_key:
        return error_response(401, "Invalid or missing API key")
    dice = request.app[RANDOM]
    if faults.rate_limit_rate and dice.random() < faults.rate_limit_rate:
        return error_response(429, "Too many requests")
    if faults.api_error_rate and dice.random() < faults.api_error_rate:
        return error_response(500, "Internal server error (injected)")
    if faults.lose_answer_rate and dice.random() < faults.lose_answer_rate:
        await handler(request)
        return error_response(504, "Gateway timeout (injected: the call took effect)")
    return await handler(request)


async def create_deployment(request: web.Request) -> web.Response:
    """POST /v1/deployments: parse the SDL, open the deployment, start the auction."""
    body = data_field(await json_body(request))
    sdl = body.get("sdl")
    if not isinstance(sdl, str):
        raise ApiError(400, "data.sdl must be a string")
    try:
        groups = parse_sdl(sdl)
    except SdlError as exc:
        raise ApiError(400, f"Invalid SDL: {exc}") from None
    name = body.get("name")
    limit = body.get("runtimeLimitHours")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ApiError(400, "runtimeLimitHours must be an integer >= 1")
    network = request.app[NETWORK]
    deployment = network.create_deployment(
        sdl,
        groups,
        str(name) if name is not None else None,
        limit,
        _usd(body.get("deposit"), "deposit"),
    )
    sign_tx = {"code": 0, "transactionHash": deployment.hash.upper(), "rawLog": "[]"}
    return data(
        {"dseq": str(deployment.dseq), "manifest": _manifest(groups), "signTx": sign_tx}, 201
    )


async def list_deployments(request: web.Request) -> web.Response:
    """GET /v1/deployments?skip=&limit=: every deployment of the owner, oldest first."""
    network = request.app[NETWORK]
    skip = parse_int(request.query.get("skip", "0"), "skip")
    limit = max(1, min(parse_int(request.query.get("limit", "10"), "limit"), 100))
    everything = sorted(network.market.deployments.values(), key=lambda d: d.dseq)
    page = [deployment_view(network, d) for d in everything[skip : skip + limit]]
    pagination = {
        "total": len(everything),
        "skip": skip,
        "limit": limit,
        "hasMore": skip + limit < len(everything),
    }
    return data({"deployments": page, "pagination": pagination})


async def get_deployment(request: web.Request) -> web.Response:
    """GET /v1/deployments/{dseq}."""
    network = request.app[NETWORK]
    deployment = network.market.get(parse_int(request.match_info["dseq"], "dseq"))
    return data(deployment_view(network, deployment))


async def close_deployment(request: web.Request) -> web.Response:
    """DELETE /v1/deployments/{dseq}: stops the workloads; 409 when already closed."""
    await request.app[NETWORK].close_deployment(parse_int(request.match_info["dseq"], "dseq"))
    return data({"success": True})


async def deposit(request: web.Request) -> web.Response:
    """POST /v1/deposit-deployment: add USD to the escrow."""
    body = data_field(await json_body(request))
    network = request.app[NETWORK]
    amount = _usd(body.get("deposit"), "deposit")
    if amount is None or amount <= 0:
        raise ApiError(400, "deposit must be a positive number (USD)")
    deployment = network.deposit(parse_int(body.get("dseq"), "dseq"), amount)
    return data(deployment_view(network, deployment))


async def list_bids(request: web.Request) -> web.Response:
    """GET /v1/bids?dseq= and /v1/bids/{dseq}: `[]` until providers have bid."""
    raw = request.match_info.get("dseq") or request.query.get("dseq")
    if raw is None:
        raise ApiError(400, "dseq is required")
    network = request.app[NETWORK]
    deployment = network.market.get(parse_int(raw, "dseq"))
    return data([bid_view(network, deployment, bid) for bid in deployment.bids])


async def create_leases(request: web.Request) -> web.Response:
    """POST /v1/leases (body not wrapped in data): accept bids, send the manifest."""
    body = await json_body(request)
    if not isinstance(body.get("manifest"), str):
        raise ApiError(400, "manifest (the string returned by POST /v1/deployments) is required")
    entries = body.get("leases")
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(e, dict) for e in entries)
    ):
        raise ApiError(400, "leases must be a non-empty list of {dseq, gseq, oseq, provider}")
    orders = [_order(entry) for entry in entries]
    if len({dseq for dseq, *_ in orders}) != 1:
        raise ApiError(400, "all leases must belong to one deployment")
    network = request.app[NETWORK]
    network.create_leases(orders)
    return data(deployment_view(network, network.market.get(orders[0][0])))


async def get_provider(request: web.Request) -> web.Response:
    """GET /v1/providers/{address}."""
    network = request.app[NETWORK]
    provider = network.provider(request.match_info["address"])
    return data(
        {
            "owner": provider.address,
            "hostUri": network.host_uri(provider.address),
            "isOnline": provider.is_online,
            "isAudited": provider.is_audited,
            "isValidVersion": True,
            "name": provider.address,
            "createdHeight": 1_000_000,
            "attributes": [{"key": "region", "value": provider.region}],
            "uptime1d": 1.0 if provider.is_online else 0.0,
            "uptime7d": 0.99,
            "uptime30d": 0.98,
        }
    )


async def create_jwt(request: web.Request) -> web.Response:
    """POST /v1/create-jwt-token: a token the provider gateways accept."""
    body = data_field(await json_body(request))
    ttl = body.get("ttl", 3600)
    if not isinstance(ttl, int) or not 0 < ttl <= MAX_TTL_SECONDS:
        raise ApiError(400, f"ttl must be an integer of seconds in 1..{MAX_TTL_SECONDS}")
    leases = body.get("leases")
    if not isinstance(leases, dict) or leases.get("access") not in ("full", "granular"):
        raise ApiError(400, 'leases.access must be "full" or "granular"')
    return data({"token": request.app[NETWORK].tokens.issue(ttl, leases)})


async def pricing(request: web.Request) -> web.Response:
    """POST /v1/pricing: USD per month for {cpu (millicores), memory, storage (bytes)}."""
    body = await json_body(request)
    spec = body.get("data", body)
    if not isinstance(spec, dict):
        raise ApiError(400, "body must be {cpu, memory, storage}")
    cpu, memory, storage = (parse_int(spec.get(k, 0), k) for k in ("cpu", "memory", "storage"))
    usd = request.app[NETWORK].estimate_usd_per_month(cpu, memory, storage)
    return data({"akash": round(usd, 4), "aws": None, "gcp": None, "azure": None})


def _order(entry: dict[str, Any]) -> tuple[int, int, int, str]:
    provider = entry.get("provider")
    if not isinstance(provider, str):
        raise ApiError(400, "leases[].provider must be a string")
    return (
        parse_int(entry.get("dseq"), "dseq"),
        parse_int(entry.get("gseq", 1), "gseq"),
        parse_int(entry.get("oseq", 1), "oseq"),
        provider,
    )


def _usd(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"{name} must be a number (USD)")
    return float(value)


def _manifest(groups: list[Group]) -> str:
    # Console returns the manifest as a JSON string that the client hands back with the lease.
    doc = [
        {
            "name": g.name,
            "services": [{"name": s.name, "image": s.image, "count": s.count} for s in g.services],
        }
        for g in groups
    ]
    return json.dumps(doc, separators=(",", ":"))
