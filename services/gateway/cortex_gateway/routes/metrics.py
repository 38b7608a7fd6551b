"""`GET /jobs/:id/metrics?period=&resolution=`: the job's usage, one point per bucket."""

from __future__ import annotations

from aiohttp import web

from contracts import subjects
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import ok
from cortex_gateway.window import Windows
from runtime.messaging import call_rpc

# 24h at 1m (1,440 points) or 7d at 5m (2,016) is refused: coarser resolutions answer it.
JOB_WINDOWS = Windows(
    periods={"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600},
    resolutions={"1m": 60, "5m": 300, "1h": 3600},
    max_points=500,
    default_period="1h",
    default_resolution="1m",
)


async def get_metrics(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    period, resolution = JOB_WINDOWS.parse(request.query)
    payload = {
        "tenant": key.tenant,
        "id": request.match_info["job_id"],
        "period": JOB_WINDOWS.periods[period],
        "resolution": JOB_WINDOWS.resolutions[resolution],
    }
    data = await call_rpc(ctx.nc, subjects.RPC_JOB_METRICS, payload, ctx.settings.rpc_timeout)
    return ok(data)
