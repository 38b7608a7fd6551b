"""Control endpoint (`/control/...`, no auth, loopback dev tool): state for leak checks, faults."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from devnets.golem.faults import Faults
from devnets.golem.http import ApiError, json_object
from devnets.golem.keys import NETWORK

DEFAULT_BREAK_MESSAGE = "Provider terminated the agreement"


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    app.router.add_get("/control/state", get_state)
    app.router.add_post("/control/faults", set_faults)
    app.router.add_delete("/control/faults", reset_faults)
    app.router.add_post("/control/agreements/{aid}/break", break_agreement)


async def get_state(request: web.Request) -> web.Response:
    """Open demands, agreements, activities, allocations, live processes, current faults."""
    return web.json_response(request.app[NETWORK].snapshot())


async def set_faults(request: web.Request) -> web.Response:
    """Change some fault switches (camelCase JSON); the others keep their value."""
    network = request.app[NETWORK]
    try:
        network.faults = network.faults.merged(await json_object(request))
    except ValidationError as exc:
        raise ApiError(400, f"invalid faults: {exc.errors(include_url=False)}") from None
    return web.json_response(network.faults.model_dump(by_alias=True))


async def reset_faults(request: web.Request) -> web.Response:
    """Switch every fault off."""
    network = request.app[NETWORK]
    network.faults = Faults()
    return web.json_response(network.faults.model_dump(by_alias=True))


async def break_agreement(request: web.Request) -> web.Response:
    """The provider terminates an approved agreement mid-run: activities gone, processes stopped."""
    body = await json_object(request)
    message = str(body.get("message") or DEFAULT_BREAK_MESSAGE)
    agreement_id = request.match_info["aid"]
    await request.app[NETWORK].break_agreement(agreement_id, message)
    return web.json_response({"agreementId": agreement_id, "state": "Terminated"})
