"""`/jobs/schedules`: cron schedules of a job spec or of a template with overrides."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.batches import ScheduleRequest, new_schedule_id
from contracts.merge import deep_merge
from contracts.validation import parse_model
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import json_body, object_body, ok, validation
from cortex_gateway.routes.jobs import paginated
from cortex_gateway.routes.pages import page_query
from cortex_gateway.routes.specs import parse_spec, spec_json
from cortex_gateway.routes.templates import template_config
from runtime.messaging import call_rpc


async def _schedule_body(request: web.Request, tenant: str) -> dict[str, Any]:
    """The schedule as the scheduler stores it: exactly one of `config` or `templateId`,
    and what it would run validated now, so a mistake is a 400 today, not a failure at 3 am."""
    ctx = GatewayContext.of(request)
    given = parse_model(
        ScheduleRequest, object_body(await json_body(request, ctx.settings.max_body_bytes))
    )
    if (given.template_id is None) == (given.config is None):
        raise validation(
            "Give either templateId (with overrides) or config", "templateId", "one_of"
        )
    if given.config is not None and given.overrides is not None:
        raise validation(
            "overrides apply to a template; give them with templateId", "overrides", "with_template"
        )
    body: dict[str, Any] = {"name": given.name, "cron": given.cron, "timezone": given.timezone}
    if given.config is not None:
        body["config"] = spec_json(parse_spec(given.config, ctx.limits, "config.", "config"))
    else:
        assert given.template_id is not None
        overrides = given.overrides or {}
        merged = deep_merge(await template_config(request, tenant, given.template_id), overrides)
        parse_spec(merged, ctx.limits, "overrides.", "template with overrides")
        body.update(templateId=given.template_id, overrides=overrides)
    return body


async def create_schedule(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    payload = {
        "tenant": key.tenant,
        "id": new_schedule_id(),
        "schedule": await _schedule_body(request, key.tenant),
    }
    reply = await call_rpc(ctx.nc, subjects.RPC_SCHEDULE_CREATE, payload, ctx.settings.rpc_timeout)
    return ok(reply, status=201)


async def list_schedules(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    query = {**page_query(request.query), "tenant": key.tenant}
    result = await call_rpc(ctx.nc, subjects.RPC_SCHEDULE_LIST, query, ctx.settings.rpc_timeout)
    return paginated(result, query)


async def update_schedule(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    payload = {
        "tenant": key.tenant,
        "id": request.match_info["schedule_id"],
        "schedule": await _schedule_body(request, key.tenant),
    }
    return ok(
        await call_rpc(ctx.nc, subjects.RPC_SCHEDULE_UPDATE, payload, ctx.settings.rpc_timeout)
    )


def _by_id(subject: str, scope: str) -> Any:
    """A handler that sends `{tenant, id}` to `subject` and answers with the reply."""

    async def handler(request: web.Request) -> web.Response:
        ctx = GatewayContext.of(request)
        key = require(request, scope)
        payload = {"tenant": key.tenant, "id": request.match_info["schedule_id"]}
        return ok(await call_rpc(ctx.nc, subject, payload, ctx.settings.rpc_timeout))

    return handler


get_schedule = _by_id(subjects.RPC_SCHEDULE_GET, "jobs:read")
delete_schedule = _by_id(subjects.RPC_SCHEDULE_DELETE, "jobs:write")
pause_schedule = _by_id(subjects.RPC_SCHEDULE_PAUSE, "jobs:write")
resume_schedule = _by_id(subjects.RPC_SCHEDULE_RESUME, "jobs:write")
