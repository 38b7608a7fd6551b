"""`/jobs/templates` (tenant-owned job configurations) and `/jobs/from-template/:id`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.batches import FromTemplateRequest, TemplateRequest, new_template_id
from contracts.merge import deep_merge
from contracts.validation import parse_model
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import json_body, object_body, ok
from cortex_gateway.routes.idempotency import idempotency
from cortex_gateway.routes.jobs import paginated, submit_job
from cortex_gateway.routes.pages import page_query
from cortex_gateway.routes.specs import parse_spec, spec_json
from runtime.messaging import call_rpc


async def _template_body(request: web.Request) -> dict[str, Any]:
    """The template as the scheduler stores it: `config` validated and normalised."""
    ctx = GatewayContext.of(request)
    given = parse_model(
        TemplateRequest, object_body(await json_body(request, ctx.settings.max_body_bytes))
    )
    spec = parse_spec(given.config, ctx.limits, "config.", "template config")
    ctx.providers.require_available(spec.provider)
    return {"name": given.name, "description": given.description, "config": spec_json(spec)}


async def create_template(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    payload = {
        "tenant": key.tenant,
        "id": new_template_id(),
        "template": await _template_body(request),
    }
    reply = await call_rpc(ctx.nc, subjects.RPC_TEMPLATE_CREATE, payload, ctx.settings.rpc_timeout)
    return ok(reply, status=201)


async def list_templates(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    query = {**page_query(request.query), "tenant": key.tenant}
    result = await call_rpc(ctx.nc, subjects.RPC_TEMPLATE_LIST, query, ctx.settings.rpc_timeout)
    return paginated(result, query)


async def get_template(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    payload = {"tenant": key.tenant, "id": request.match_info["template_id"]}
    return ok(await call_rpc(ctx.nc, subjects.RPC_TEMPLATE_GET, payload, ctx.settings.rpc_timeout))


async def update_template(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    payload = {
        "tenant": key.tenant,
        "id": request.match_info["template_id"],
        "template": await _template_body(request),
    }
    return ok(
        await call_rpc(ctx.nc, subjects.RPC_TEMPLATE_UPDATE, payload, ctx.settings.rpc_timeout)
    )


async def delete_template(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    payload = {"tenant": key.tenant, "id": request.match_info["template_id"]}
    return ok(
        await call_rpc(ctx.nc, subjects.RPC_TEMPLATE_DELETE, payload, ctx.settings.rpc_timeout)
    )


async def template_config(request: web.Request, tenant: str, template_id: str) -> dict[str, Any]:
    """The stored config of a template (404 TEMPLATE_NOT_FOUND)."""
    ctx = GatewayContext.of(request)
    payload = {"tenant": tenant, "id": template_id}
    template = await call_rpc(ctx.nc, subjects.RPC_TEMPLATE_GET, payload, ctx.settings.rpc_timeout)
    config: dict[str, Any] = template["config"]
    return config


async def create_from_template(request: web.Request) -> web.Response:
    """Deep-merge `overrides` into the template, validate the result, create the job."""
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    body: Any = {}
    if request.can_read_body:
        body = object_body(await json_body(request, ctx.settings.max_body_bytes))
    given = parse_model(FromTemplateRequest, body)
    template_id = request.match_info["template_id"]
    merged = deep_merge(await template_config(request, key.tenant, template_id), given.overrides)
    spec = parse_spec(merged, ctx.limits, "", "job spec (template with overrides)")
    ctx.providers.require_available(spec.provider)
    return await submit_job(request, key.tenant, spec, idempotency(request, body), template_id)
