"""The control routes every devnet has: `/control/state` (leak checks) and `/control/faults`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel, ValidationError


class Controlled(Protocol):
    """A devnet's state object: what is open, and its current faults."""

    faults: Any

    def snapshot(self) -> dict[str, Any]: ...


def add_state_and_fault_routes(
    app: web.Application,
    key: web.AppKey[Any],
    no_faults: Callable[[], BaseModel],
    read_body: Callable[[web.Request], Awaitable[dict[str, Any]]],
    invalid: Callable[[str], Exception],
) -> None:
    """GET /control/state; POST /control/faults (change some switches, camelCase); DELETE
    /control/faults (all off). `invalid` makes the devnet's own 400 for bad switches."""

    async def get_state(request: web.Request) -> web.Response:
        owner: Controlled = request.app[key]
        return web.json_response(owner.snapshot())

    async def set_faults(request: web.Request) -> web.Response:
        owner: Controlled = request.app[key]
        try:
            owner.faults = owner.faults.merged(await read_body(request))
        except ValidationError as exc:
            raise invalid(f"invalid faults: {exc.errors(include_url=False)}") from None
        return web.json_response(owner.faults.model_dump(by_alias=True))

    async def reset_faults(request: web.Request) -> web.Response:
        owner: Controlled = request.app[key]
        owner.faults = no_faults()
        return web.json_response(owner.faults.model_dump(by_alias=True))

    app.router.add_get("/control/state", get_state)
    app.router.add_post("/control/faults", set_faults)
    app.router.add_delete("/control/faults", reset_faults)
