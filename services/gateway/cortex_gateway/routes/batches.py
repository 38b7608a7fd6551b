"""`/jobs/batch` and `/jobs/batches/:id`: many jobs in one request, run `concurrency` at once."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.batches import MAX_BATCH_JOBS, BatchRequest, new_batch_id
from contracts.errors import ApiError, ErrorCode
from contracts.job import new_job_id
from contracts.validation import parse_model
from cortex_gateway.context import REQUEST_ID, GatewayContext, require
from cortex_gateway.responses import json_body, object_body, ok
from cortex_gateway.routes.idempotency import answer, idempotency
from cortex_gateway.routes.specs import spec_json, spec_problems
from runtime import codec
from runtime.messaging import call_rpc


async def create_batch(request: web.Request) -> web.Response:
    """Validate every job first: one invalid job rejects the batch, naming its index."""
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    body = object_body(await json_body(request, ctx.settings.max_batch_body_bytes))
    batch = parse_model(BatchRequest, body)
    jobs, found = [], []
    for index, item in enumerate(batch.jobs):
        spec, item_problems = spec_problems(item, ctx.limits, f"jobs[{index}].")
        found.extend(item_problems)
        if spec is not None:
            jobs.append(spec)
    if found:
        indexes = sorted({d["field"].split("]", 1)[0] + "]" for d in found})
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            f"Invalid batch: {len(indexes)} invalid job(s) ({', '.join(indexes[:5])}); "
            "nothing was created",
            found,
        )
    for provider in sorted({spec.provider for spec in jobs}):
        ctx.providers.require_available(provider)
    payload: dict[str, Any] = {
        "batchId": new_batch_id(),
        "tenant": key.tenant,
        "jobs": [{"jobId": new_job_id(), "spec": spec_json(spec)} for spec in jobs],
        "concurrency": batch.concurrency or len(jobs),
        "requestId": request.get(REQUEST_ID),
        "idempotency": idempotency(request, body),
    }
    if len(codec.dumps(payload)) > ctx.nc.max_payload:
        raise ApiError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The batch is too large to pass on ({ctx.nc.max_payload} bytes at most); "
            "split it into smaller batches",
            [{"field": "jobs", "rule": "max_bytes", "message": "too large in total"}],
        )
    # A large batch is one transaction of thousands of rows: give it more than a create.
    reply = await call_rpc(ctx.nc, subjects.RPC_BATCH_CREATE, payload, ctx.settings.rpc_timeout * 4)
    return answer(reply)


async def get_batch(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    payload = {"tenant": key.tenant, "id": request.match_info["batch_id"]}
    return ok(await call_rpc(ctx.nc, subjects.RPC_BATCH_GET, payload, ctx.settings.rpc_timeout))


async def cancel_batch(request: web.Request) -> web.Response:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:write")
    payload = {"tenant": key.tenant, "id": request.match_info["batch_id"]}
    timeout = ctx.settings.rpc_timeout * 4
    return ok(await call_rpc(ctx.nc, subjects.RPC_BATCH_CANCEL, payload, timeout))


__all__ = ["MAX_BATCH_JOBS", "cancel_batch", "create_batch", "get_batch"]
