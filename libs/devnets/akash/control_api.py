"""Control endpoint (`/control/...`, no auth, loopback dev tool): state for leak checks, faults."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from devnets.akash.console_api import NETWORK
from devnets.akash.faults import Faults
from devnets.akash.http import ApiError, json_body, parse_int

DEFAULT_CLOSE_REASON = "lease_closed_unstable"
CLOSE_REASONS = {
    "lease_closed_unstable",
    "lease_closed_decommission",
    "lease_closed_manifest_timeout",
    "lease_closed_unspecified",
}


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    app.router.add_get("/control/state", get_state)
    app.router.add_post("/control/faults", set_faults)
    app.router.add_delete("/control/faults", reset_faults)
    app.router.add_post("/control/leases/{dseq}/close", close_lease)


async def get_state(request: web.Request) -> web.Response:
    """Open deployments, active leases, live workloads, current faults."""
    return web.json_response(request.app[NETWORK].snapshot())


async def set_faults(request: web.Request) -> web.Response:
    """Change some fault switches (camelCase JSON); the others keep their value."""
    network = request.app[NETWORK]
    try:
        network.faults = network.faults.merged(await json_body(request))
    except ValidationError as exc:
        raise ApiError(400, f"invalid faults: {exc.errors(include_url=False)}") from None
    return web.json_response(network.faults.model_dump(by_alias=True))


async def reset_faults(request: web.Request) -> web.Response:
    """Switch every fault off."""
    network = request.app[NETWORK]
    network.faults = Faults()
    return web.json_response(network.faults.model_dump(by_alias=True))


async def close_lease(request: web.Request) -> web.Response:
    """The provider closes the deployment's active lease mid-run (workload stopped)."""
    body = await json_body(request) if request.can_read_body else {}
    reason = body.get("reason", DEFAULT_CLOSE_REASON)
    if reason not in CLOSE_REASONS:
        raise ApiError(400, f"reason must be one of {sorted(CLOSE_REASONS)}")
    closed = await request.app[NETWORK].provider_close(
        parse_int(request.match_info["dseq"], "dseq"), reason
    )
    return web.json_response(
        {"closed": [{"dseq": str(x.dseq), "gseq": x.gseq, "oseq": x.oseq} for x in closed]}
    )
