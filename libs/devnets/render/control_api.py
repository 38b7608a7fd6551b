"""Control endpoint (`/control/...`, no auth, loopback dev tool): state, faults, instance loss."""

from __future__ import annotations

from aiohttp import web

from devnets.control import add_state_and_fault_routes
from devnets.render.faults import Faults
from devnets.render.guard import PLATFORM
from devnets.render.http import ApiError, json_body
from devnets.render.views import job_view


def add_routes(app: web.Application) -> None:
    """Register the control routes."""
    add_state_and_fault_routes(
        app, PLATFORM, Faults, json_body, lambda message: ApiError(400, message)
    )
    app.router.add_post("/control/jobs/{jobId}/kill", kill_job)


async def kill_job(request: web.Request) -> web.Response:
    """The job's instance is lost mid-run: its process tree is SIGKILLed, the job `failed`."""
    job = await request.app[PLATFORM].kill_job(request.match_info["jobId"])
    return web.json_response(job_view(job))
