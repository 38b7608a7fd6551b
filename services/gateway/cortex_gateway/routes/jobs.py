"""`/api/plugin-core/jobs`: create, list, get, cancel."""

from __future__ import annotations

import math
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from contracts import subjects
from contracts.job import JobSpec, new_job_id
from contracts.status import JobStatus
from contracts.timefmt import format_time, parse_time
from contracts.validation import parse_model
from cortex_gateway.context import REQUEST_ID, GatewayContext, require
from cortex_gateway.responses import json_body, object_body, ok, validation
from cortex_gateway.routes.idempotency import answer, idempotency
from runtime.messaging import call_rpc

SORT_FIELDS = ("createdAt", "startedAt", "endedAt", "status", "provider")
LIST_PARAMS = frozenset(
    {"status", "provider", "from", "to", "page", "limit", "sort", "batch", "schedule"}
)
MAX_LIMIT = 100


async def create_job(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    body = object_body(await json_body(request, ctx.settings.max_body_bytes))
    spec = parse_model(JobSpec, body, context=ctx.limits)
    ctx.providers.require_available(spec.provider)
    return await submit_job(request, key.tenant, spec, idempotency(request, body))


async def submit_job(
    request: web.Request,
    tenant: str,
    spec: JobSpec,
    idempotency_key: dict[str, str] | None,
    template_id: str | None = None,
) -> web.Response:
    """Ask the scheduler to record one validated job; 201 with the job."""
    ctx = GatewayContext.of(request)
    payload: dict[str, Any] = {
        "jobId": new_job_id(),
        "tenant": tenant,
        "spec": spec.model_dump(mode="json", by_alias=True, exclude_none=True),
        "requestId": request.get(REQUEST_ID),
    }
    if template_id is not None:
        payload["templateId"] = template_id
    if idempotency_key is not None:
        payload["idempotency"] = idempotency_key
    if idempotency_key is None:  # the common case: coalesced with concurrent creates
        return ok(await ctx.intake.create(payload), status=201)
    reply = await call_rpc(ctx.nc, subjects.RPC_JOB_CREATE, payload, ctx.settings.rpc_timeout)
    return answer(reply)


async def list_jobs(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    query = list_query(request.query, ctx)
    query["tenant"] = key.tenant
    result = await call_rpc(ctx.nc, subjects.RPC_JOB_LIST, query, ctx.settings.rpc_timeout)
    return paginated(result, query)


def paginated(result: dict[str, Any], query: dict[str, Any]) -> web.Response:
    """A page of jobs in the seed's envelope, with `meta.pagination`."""
    total, limit = result["total"], query["limit"]
    pagination = {
        "total": total,
        "page": query["page"],
        "limit": limit,
        "pages": math.ceil(total / limit),
    }
    return ok(result["items"], meta={"pagination": pagination})


async def get_job(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    payload = {"tenant": key.tenant, "id": request.match_info["job_id"]}
    return ok(await call_rpc(ctx.nc, subjects.RPC_JOB_GET, payload, ctx.settings.rpc_timeout))


class ExtendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration: Annotated[StrictInt, Field(ge=1)]  # seconds to add


async def extend_job(request: web.Request) -> web.Response:
    """Run a running job `duration` seconds longer, where its network supports it."""
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    body = parse_model(
        ExtendRequest, object_body(await json_body(request, ctx.settings.max_body_bytes))
    )
    payload = {"tenant": key.tenant, "id": request.match_info["job_id"], "duration": body.duration}
    return ok(
        await call_rpc(ctx.nc, subjects.RPC_JOB_EXTEND, payload, ctx.settings.rpc_timeout + 10)
    )


async def cancel_job(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    payload = {"tenant": key.tenant, "id": request.match_info["job_id"]}
    return ok(await call_rpc(ctx.nc, subjects.RPC_JOB_CANCEL, payload, ctx.settings.rpc_timeout))


def list_query(params: Any, ctx: GatewayContext) -> dict[str, Any]:
    unknown = sorted(set(params) - LIST_PARAMS)
    if unknown:
        raise validation(
            f"Unknown query parameter {unknown[0]!r}; allowed: {', '.join(sorted(LIST_PARAMS))}",
            unknown[0],
            "unknown_parameter",
        )
    query: dict[str, Any] = {
        "statuses": _csv(params, "status", {s.value for s in JobStatus}),
        "providers": _csv(params, "provider", set(ctx.settings.provider_set)),
        "page": _int(params, "page", 1, 1, 1_000_000),
        "limit": _int(params, "limit", 20, 1, MAX_LIMIT),
    }
    for name in ("from", "to"):
        if name in params:
            try:
                query[name] = format_time(parse_time(params[name]))
            except ValueError:
                raise validation(
                    f"{name} must be an ISO-8601 time such as 2025-07-10T12:00:00Z",
                    name,
                    "iso_time",
                ) from None
    for name in ("batch", "schedule"):
        if name in params:
            if not params[name].strip():
                raise validation(f"{name} must be an id", name, "id")
            query[name] = params[name].strip()
    field, _, direction = params.get("sort", "createdAt:desc").partition(":")
    direction = direction or "desc"
    if field not in SORT_FIELDS or direction not in ("asc", "desc"):
        raise validation(
            f"sort must be <field>:<asc|desc> with field one of {', '.join(SORT_FIELDS)}",
            "sort",
            "sort",
        )
    query["sortField"], query["descending"] = field, direction == "desc"
    return query


def _csv(params: Any, name: str, allowed: set[str]) -> list[str]:
    if name not in params:
        return []
    values = [v.strip() for v in params[name].split(",") if v.strip()]
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise validation(
            f"{name} must be one or more of {', '.join(sorted(allowed))} (comma-separated)",
            name,
            "enum",
        )
    return values


def _int(params: Any, name: str, default: int, low: int, high: int) -> int:
    if name not in params:
        return default
    text = params[name]
    if not text.isdigit() or not low <= int(text) <= high:
        raise validation(f"{name} must be an integer from {low} to {high}", name, "range")
    return int(text)
