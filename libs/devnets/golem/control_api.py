"""Control endpoint (`/control/...`, no auth, loopback dev tool): state for leak checks, faults."""

from __future__ import annotations

from aiohttp import web

from devnets.control import add_state_and_fault_routes
from devnets.golem.faults import Faults
from devnets.golem.http import ApiError, json_object
from devnets.golem.keys import NETWORK

DEFAULT_BREAK_MESSAGE = "Provider terminated the agreement"


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    add_state_and_fault_routes(
        app, NETWORK, Faults, json_object, lambda message: ApiError(400, message)
    )
    app.router.add_post("/control/agreements/{aid}/break", break_agreement)


async def break_agreement(request: web.Request) -> web.Response:
    """The provider terminates an approved agreement mid-run: activities gone, processes stopped."""
    body = await json_object(request)
    message = str(body.get("message") or DEFAULT_BREAK_MESSAGE)
    agreement_id = request.match_info["aid"]
    await request.app[NETWORK].break_agreement(agreement_id, message)
    return web.json_response({"agreementId": agreement_id, "state": "Terminated"})
