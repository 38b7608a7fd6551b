"""`GET /metrics/{cpu,memory,cpu-limit,memory-limit,instance-count,bandwidth}` from real samples."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from devnets.render.clock import now
from devnets.render.guard import PLATFORM
from devnets.render.http import ApiError, query_list, query_number, query_time
from devnets.render.metrics import METRICS, Aggregation, InstanceSamples, time_series

DEFAULT_WINDOW = timedelta(hours=1)
DEFAULT_RESOLUTION = 60.0
AGGREGATIONS: dict[str, Aggregation] = {"AVG": "AVG", "MAX": "MAX", "MIN": "MIN"}


def add_routes(app: web.Application) -> None:
    """Register the metric routes."""
    app.router.add_get("/metrics/bandwidth", bandwidth)
    app.router.add_get("/metrics/{metric}", metric)


async def metric(request: web.Request) -> web.Response:
    """A time series per job (instance) of the given service or job ids."""
    name = request.match_info["metric"]
    if name not in METRICS:
        raise ApiError(404, f"unknown metric {name!r}")
    end = query_time(request, "endTime") or now()
    start = query_time(request, "startTime") or end - DEFAULT_WINDOW
    resolution = query_number(request, "resolutionSeconds", DEFAULT_RESOLUTION)
    method = request.query.get("aggregationMethod", "AVG")
    if method not in AGGREGATIONS:
        raise ApiError(400, "aggregationMethod must be AVG, MAX or MIN")
    series = time_series(name, _instances(request), start, end, resolution, AGGREGATIONS[method])
    return web.json_response(series)


async def bandwidth(request: web.Request) -> web.Response:
    """Not measurable here (no per-process network counters): no series at all."""
    _instances(request)
    return web.json_response([])


def _instances(request: web.Request) -> list[InstanceSamples]:
    resources = query_list(request, "resource")
    if not resources:
        raise ApiError(400, "resource is required")
    wanted = set(query_list(request, "instance"))
    runs = request.app[PLATFORM].runs.values()
    return [
        run.usage
        for run in runs
        if (run.job.id in resources or run.job.service_id in resources)
        and (not wanted or run.job.id in wanted)
    ]
