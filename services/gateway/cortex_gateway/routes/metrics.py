"""`GET /jobs/:id/metrics?period=&resolution=`: the job's usage, one point per bucket."""

from __future__ import annotations

from aiohttp import web

from contracts import subjects
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import ok, validation
from runtime.messaging import call_rpc

PERIODS = {"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600}
RESOLUTIONS = {"1m": 60, "5m": 300, "1h": 3600}
MAX_POINTS = 500  # per series: 24h at 1m (1,440) or 7d at 5m (2,016) is refused


async def get_metrics(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    params = request.query
    unknown = sorted(set(params) - {"period", "resolution"})
    if unknown:
        raise validation(
            f"Unknown query parameter {unknown[0]!r}; allowed: period, resolution",
            unknown[0],
            "unknown_parameter",
        )
    period = params.get("period", "1h")
    resolution = params.get("resolution", "1m")
    if period not in PERIODS:
        raise validation(f"period must be one of {', '.join(PERIODS)}", "period", "enum")
    if resolution not in RESOLUTIONS:
        raise validation(
            f"resolution must be one of {', '.join(RESOLUTIONS)}", "resolution", "enum"
        )
    points = PERIODS[period] // RESOLUTIONS[resolution]
    if points > MAX_POINTS:
        raise validation(
            f"period={period} at resolution={resolution} would be {points} points per series; "
            f"at most {MAX_POINTS}: choose a coarser resolution",
            "resolution",
            "max_points",
        )
    payload = {
        "tenant": key.tenant,
        "id": request.match_info["job_id"],
        "period": PERIODS[period],
        "resolution": RESOLUTIONS[resolution],
    }
    data = await call_rpc(ctx.nc, subjects.RPC_JOB_METRICS, payload, ctx.settings.rpc_timeout)
    return ok(data)
