"""`/services/{id}/jobs`: one-off jobs that run `startCommand` from the service's image."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from devnets.render.guard import PLATFORM
from devnets.render.http import ApiError, json_body, paginate, query_list, query_time
from devnets.render.model import JOB_ENDED
from devnets.render.services_api import plan_named
from devnets.render.views import job_view

JOB_STATUSES = {"pending", "running", *JOB_ENDED}


def add_routes(app: web.Application) -> None:
    """Register the job routes."""
    app.router.add_post("/services/{serviceId}/jobs", create_job)
    app.router.add_get("/services/{serviceId}/jobs", list_jobs)
    app.router.add_get("/services/{serviceId}/jobs/{jobId}", get_job)
    app.router.add_post("/services/{serviceId}/jobs/{jobId}/cancel", cancel_job)


async def create_job(request: web.Request) -> web.Response:
    """POST /services/{serviceId}/jobs `{startCommand, planId?}`: 201 with the pending job."""
    platform = request.app[PLATFORM]
    body = await json_body(request)
    command = body.get("startCommand")
    if not isinstance(command, str) or not command.strip():
        raise ApiError(400, "startCommand is required")
    plan_id = body.get("planId")
    plan = plan_named(platform, plan_id, "planId") if plan_id is not None else None
    job = platform.create_job(request.match_info["serviceId"], command, plan)
    return web.json_response(job_view(job), status=201)


async def list_jobs(request: web.Request) -> web.Response:
    """GET /services/{serviceId}/jobs?status=&createdAfter=...: `[{cursor, job}]`, newest first."""
    statuses = query_list(request, "status")
    unknown = set(statuses) - JOB_STATUSES
    if unknown:
        raise ApiError(400, f"status must be among {sorted(JOB_STATUSES)}")
    bounds = {
        name: query_time(request, name)
        for name in ("createdAfter", "createdBefore", "finishedAfter", "finishedBefore")
    }
    items = []
    for run in request.app[PLATFORM].jobs(request.match_info["serviceId"]):
        job = run.job
        if statuses and job.status not in statuses:
            continue
        if not _within(job.created_at, bounds["createdAfter"], bounds["createdBefore"]):
            continue
        if (bounds["finishedAfter"] or bounds["finishedBefore"]) and not _within(
            job.finished_at, bounds["finishedAfter"], bounds["finishedBefore"]
        ):
            continue
        items.append((job.id, job_view(job)))
    return paginate(request, items, "job")


async def get_job(request: web.Request) -> web.Response:
    """GET /services/{serviceId}/jobs/{jobId}."""
    run = request.app[PLATFORM].job(request.match_info["serviceId"], request.match_info["jobId"])
    return web.json_response(job_view(run.job))


async def cancel_job(request: web.Request) -> web.Response:
    """POST .../jobs/{jobId}/cancel: stops the process, answers the `canceled` job."""
    job = await request.app[PLATFORM].cancel_job(
        request.match_info["serviceId"], request.match_info["jobId"]
    )
    return web.json_response(job_view(job))


def _within(moment: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    if moment is None:
        return False
    if after is not None and moment < after:
        return False
    return not (before is not None and moment > before)
