"""The aiohttp application: routes and middlewares."""

from __future__ import annotations

from aiohttp import web

from cortex_gateway.context import CONTEXT, GatewayContext
from cortex_gateway.middleware import authenticate, request_context
from cortex_gateway.routes import (
    batches,
    jobs,
    keys,
    logs,
    metrics,
    providers,
    schedules,
    templates,
    webhooks,
)
from runtime.metrics import metrics_handler

JOBS = "/api/plugin-core/jobs"


async def healthz(request: web.Request) -> web.Response:
    healthy, checks = await GatewayContext.of(request).health.check()
    body = {
        "success": healthy,
        "data": {"status": "ok" if healthy else "unavailable", "checks": checks},
    }
    return web.json_response(body, status=200 if healthy else 503)


async def _not_allowed(request: web.Request) -> web.Response:
    """Any other method on a fixed path under /jobs: 405, never read as a job id."""
    path = request.match_info.route.resource
    canonical = path.canonical if path is not None else ""
    allowed = {
        route.method
        for resource in request.app.router.resources()
        if resource.canonical == canonical
        for route in resource
    } - {"*"}
    if not allowed:
        raise web.HTTPNotFound()
    raise web.HTTPMethodNotAllowed(request.method, allowed)


def add_job_collections(router: web.UrlDispatcher) -> None:
    """Batches, templates and schedules: registered before `/jobs/{job_id}` (aiohttp tries
    routes in order) and closed to other methods, so none of them can match as a job id."""
    batch, tpl, sch = JOBS + "/batches/{batch_id}", JOBS + "/templates", JOBS + "/schedules"
    router.add_post(JOBS + "/batch", batches.create_batch)
    router.add_get(batch, batches.get_batch)
    router.add_post(batch + "/cancel", batches.cancel_batch)
    router.add_post(tpl, templates.create_template)
    router.add_get(tpl, templates.list_templates)
    router.add_get(tpl + "/{template_id}", templates.get_template)
    router.add_put(tpl + "/{template_id}", templates.update_template)
    router.add_delete(tpl + "/{template_id}", templates.delete_template)
    router.add_post(JOBS + "/from-template/{template_id}", templates.create_from_template)
    router.add_post(sch, schedules.create_schedule)
    router.add_get(sch, schedules.list_schedules)
    router.add_get(sch + "/{schedule_id}", schedules.get_schedule)
    router.add_put(sch + "/{schedule_id}", schedules.update_schedule)
    router.add_delete(sch + "/{schedule_id}", schedules.delete_schedule)
    router.add_post(sch + "/{schedule_id}/pause", schedules.pause_schedule)
    router.add_post(sch + "/{schedule_id}/resume", schedules.resume_schedule)
    for path in (JOBS + "/batch", JOBS + "/batches", tpl, sch, JOBS + "/from-template"):
        router.add_route("*", path, _not_allowed)


def create_app(context: GatewayContext) -> web.Application:
    # client_max_size above our own limits: json_body() answers oversize with a clear 400.
    largest = max(context.settings.max_body_bytes, context.settings.max_batch_body_bytes)
    app = web.Application(
        middlewares=[request_context, authenticate],
        client_max_size=largest * 2,
    )
    app[CONTEXT] = context
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_post(JOBS, jobs.create_job)
    app.router.add_get(JOBS, jobs.list_jobs)
    add_job_collections(app.router)
    app.router.add_get(JOBS + "/{job_id}", jobs.get_job)
    app.router.add_post(JOBS + "/{job_id}/cancel", jobs.cancel_job)
    app.router.add_post(JOBS + "/{job_id}/extend", jobs.extend_job)
    app.router.add_get(JOBS + "/{job_id}/logs", logs.get_logs)
    app.router.add_get(JOBS + "/{job_id}/output", logs.get_output)
    app.router.add_get(JOBS + "/{job_id}/metrics", metrics.get_metrics)
    providers_path = "/api/plugin-core/providers"
    app.router.add_get(providers_path, providers.list_providers)
    app.router.add_post(providers_path, providers.create_provider)
    app.router.add_get(providers_path + "/{provider_id}", providers.get_provider)
    app.router.add_put(providers_path + "/{provider_id}", providers.update_provider)
    app.router.add_delete(providers_path + "/{provider_id}", providers.delete_provider)
    app.router.add_get(providers_path + "/{provider_id}/config", providers.get_provider_config)
    app.router.add_get(providers_path + "/{provider_id}/status", providers.get_status)
    app.router.add_get(providers_path + "/{provider_id}/pricing", providers.get_pricing)
    app.router.add_get(providers_path + "/{provider_id}/jobs", providers.provider_jobs)
    app.router.add_get(providers_path + "/{provider_id}/metrics", providers.get_metrics)
    app.router.add_post("/api/auth/keys", keys.create_key)
    app.router.add_get("/api/auth/keys", keys.list_keys)
    app.router.add_delete("/api/auth/keys/{key_id}", keys.delete_key)
    webhooks.add_routes(app)
    return app
