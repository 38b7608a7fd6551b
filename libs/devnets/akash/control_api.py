"""Control endpoint (`/control/...`, no auth, loopback dev tool): state for leak checks, faults."""

from __future__ import annotations

from aiohttp import web

from devnets.akash.console_api import NETWORK
from devnets.akash.faults import Faults
from devnets.akash.http import ApiError, json_body, parse_int
from devnets.control import add_state_and_fault_routes

DEFAULT_CLOSE_REASON = "lease_closed_unstable"
CLOSE_REASONS = {
    "lease_closed_unstable",
    "lease_closed_decommission",
    "lease_closed_manifest_timeout",
    "lease_closed_unspecified",
}


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    add_state_and_fault_routes(
        app, NETWORK, Faults, json_body, lambda message: ApiError(400, message)
    )
    app.router.add_post("/control/leases/{dseq}/close", close_lease)


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
