"""Control endpoint (`/control/...`, no auth, loopback dev tool): state, faults, instance loss."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from devnets.render.faults import Faults
from devnets.render.guard import PLATFORM
from devnets.render.http import ApiError, json_body
from devnets.render.views import job_view


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    app.router.add_get("/control/state", get_state)
    app.router.add_post("/control/faults", set_faults)
    app.router.add_delete("/control/faults", reset_faults)
    app.router.add_post("/control/jobs/{jobId}/kill", kill_job)


async def get_state(request: web.Request) -> web.Response:
    """Services not deleted, jobs not ended, live processes, billing total, faults."""
    return web.json_response(request.app[PLATFORM].snapshot())


async def set_faults(request: web.Request) -> web.Response:
    """Change some fault switches (camelCase JSON); the others keep their value."""
    platform = request.app[PLATFORM]
    try:
        platform.faults = platform.faults.merged(await json_body(request))
    except ValidationError as exc:
        raise ApiError(400, f"invalid faults: {exc.errors(include_url=False)}") from None
    return web.json_response(platform.faults.model_dump(by_alias=True))


async def reset_faults(request: web.Request) -> web.Response:
    """Switch every fault off."""
    platform = request.app[PLATFORM]
    platform.faults = Faults()
    return web.json_response(platform.faults.model_dump(by_alias=True))


async def kill_job(request: web.Request) -> web.Response:
    """The job's instance is lost mid-run: its process tree is SIGKILLed, the job `failed`."""
    job = await request.app[PLATFORM].kill_job(request.match_info["jobId"])
    return web.json_response(job_view(job))
