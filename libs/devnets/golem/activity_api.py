"""`/activity-api/v1`: create/destroy activities, exec scripts, batch results (JSON and SSE)."""

from __future__ import annotations

import contextlib
import json
import time

from aiohttp import web

from devnets.golem.activity import Activity
from devnets.golem.exescript import Batch, parse_script
from devnets.golem.http import ApiError, json_object, poll_timeout
from devnets.golem.keys import NETWORK
from devnets.golem.longpoll import wait_until
from devnets.golem.network import GolemNetwork

ROOT = "/activity-api/v1"


def add_routes(app: web.Application) -> None:
    """Register the activity routes."""
    r = app.router
    r.add_post(f"{ROOT}/activity", create_activity)
    r.add_delete(f"{ROOT}/activity/{{id}}", destroy_activity)
    r.add_post(f"{ROOT}/activity/{{id}}/exec", exec_script)
    r.add_get(f"{ROOT}/activity/{{id}}/exec/{{batch}}", batch_results)
    r.add_get(f"{ROOT}/activity/{{id}}/state", activity_state)
    r.add_get(f"{ROOT}/activity/{{id}}/usage", activity_usage)


def _net(request: web.Request) -> GolemNetwork:
    return request.app[NETWORK]


def _activity(request: web.Request) -> Activity:
    return _net(request).activity(request.match_info["id"])


async def create_activity(request: web.Request) -> web.Response:
    """POST /activity {agreementId} → 201 {activityId} (or a bare id, as older daemons)."""
    body = await json_object(request)
    agreement_id = body.get("agreementId")
    if not isinstance(agreement_id, str):
        raise ApiError(400, "agreementId is required")
    network = _net(request)
    activity = network.create_activity(agreement_id)
    if network.settings.activity_id_shape == "string":
        return web.json_response(activity.activity_id, status=201)
    return web.json_response({"activityId": activity.activity_id}, status=201)


async def destroy_activity(request: web.Request) -> web.Response:
    """DELETE /activity/{id}: processes stopped before the answer."""
    await _net(request).destroy_activity(request.match_info["id"])
    return web.Response(status=204)


async def exec_script(request: web.Request) -> web.Response:
    """POST /activity/{id}/exec {text} → batch id."""
    activity = _activity(request)
    if activity.terminated:
        raise ApiError(410, f"Activity {activity.activity_id} is Terminated: {activity.reason}")
    batch = activity.submit(parse_script(await json_object(request)))
    return web.json_response(batch.batch_id)


async def batch_results(request: web.Request) -> web.StreamResponse:
    """GET /activity/{id}/exec/{batch}?timeout=&commandIndex=; SSE with Accept: text/event-stream."""
    batch = _activity(request).batches.get(request.match_info["batch"])
    if batch is None:
        raise ApiError(404, f"Batch {request.match_info['batch']} not found")
    if "text/event-stream" in request.headers.get("Accept", ""):
        return await _stream(request, batch)
    index = _command_index(request)

    def ready() -> bool:
        if index is None:
            return batch.finished
        return batch.finished or any(r.index >= index for r in batch.results.tail(-1))

    await wait_until(batch.results, ready, poll_timeout(request))
    return web.json_response([r.to_json() for r in batch.results.tail(-1)])


async def _stream(request: web.Request, batch: Batch) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):
        async for event in batch.events.follow():
            await response.write(f"event: runtime\ndata: {json.dumps(event)}\n\n".encode())
        await response.write_eof()
    return response


async def activity_state(request: web.Request) -> web.Response:
    """GET /activity/{id}/state → {state: [current, next], reason, errorMessage}."""
    return web.json_response(_activity(request).state_json())


async def activity_usage(request: web.Request) -> web.Response:
    """GET /activity/{id}/usage → {currentUsage, timestamp} in usage.vector order."""
    activity = _activity(request)
    activity.sample()
    return web.json_response(
        {"currentUsage": activity.usage_vector(), "timestamp": int(time.time())}
    )


def _command_index(request: web.Request) -> int | None:
    raw = request.query.get("commandIndex")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"commandIndex must be an integer, got {raw!r}") from None
