"""The aiohttp application: routes and middlewares."""

from __future__ import annotations

from aiohttp import web

from cortex_gateway.context import CONTEXT, GatewayContext
from cortex_gateway.middleware import authenticate, error_envelope, request_context
from cortex_gateway.routes import jobs, keys, logs, metrics, providers
from runtime.metrics import metrics_handler

JOBS = "/api/plugin-core/jobs"


async def healthz(request: web.Request) -> web.Response:
    healthy, checks = await GatewayContext.of(request).health.check()
    body = {
        "success": healthy,
        "data": {"status": "ok" if healthy else "unavailable", "checks": checks},
    }
    return web.json_response(body, status=200 if healthy else 503)


def create_app(context: GatewayContext) -> web.Application:
    # client_max_size above our own limit: json_body() answers oversize with a clear 400.
    app = web.Application(
        middlewares=[request_context, error_envelope, authenticate],
        client_max_size=context.settings.max_body_bytes * 2,
    )
    app[CONTEXT] = context
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_post(JOBS, jobs.create_job)
    app.router.add_get(JOBS, jobs.list_jobs)
    app.router.add_get(JOBS + "/{job_id}", jobs.get_job)
    app.router.add_post(JOBS + "/{job_id}/cancel", jobs.cancel_job)
    app.router.add_post(JOBS + "/{job_id}/extend", jobs.extend_job)
    app.router.add_get(JOBS + "/{job_id}/logs", logs.get_logs)
    app.router.add_get(JOBS + "/{job_id}/output", logs.get_output)
    app.router.add_get(JOBS + "/{job_id}/metrics", metrics.get_metrics)
    providers_path = "/api/plugin-core/providers"
    app.router.add_get(providers_path, providers.list_providers)
    app.router.add_get(providers_path + "/{provider_id}", providers.get_provider)
    app.router.add_get(providers_path + "/{provider_id}/status", providers.get_status)
    app.router.add_get(providers_path + "/{provider_id}/pricing", providers.get_pricing)
    app.router.add_get(providers_path + "/{provider_id}/jobs", providers.provider_jobs)
    app.router.add_post("/api/auth/keys", keys.create_key)
    app.router.add_get("/api/auth/keys", keys.list_keys)
    app.router.add_delete("/api/auth/keys/{key_id}", keys.delete_key)
    return app
