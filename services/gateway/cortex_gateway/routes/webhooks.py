"""`/api/plugin-core/webhooks`: forwarded to the notifier, which owns webhooks and deliveries."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from contracts import subjects
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.responses import json_body, object_body, ok
from runtime.messaging import call_rpc


async def _ask(
    request: web.Request, subject: str, payload: dict[str, Any], timeout: float = 0
) -> Any:
    ctx = GatewayContext.of(request)
    return await call_rpc(ctx.nc, subject, payload, timeout or ctx.settings.rpc_timeout)


async def _body(request: web.Request, optional: bool = False) -> dict[str, Any]:
    if optional and not request.can_read_body:
        return {}
    ctx = GatewayContext.of(request)
    return object_body(await json_body(request, ctx.settings.max_body_bytes))


def _paginated(result: dict[str, Any]) -> web.Response:
    """A page in the seed's envelope; the notifier answers items, total, page and limit."""
    total, page, limit = result["total"], result["page"], result["limit"]
    pagination = {"total": total, "page": page, "limit": limit, "pages": math.ceil(total / limit)}
    return ok(result["items"], meta={"pagination": pagination})


async def create_webhook(request: web.Request) -> web.Response:
    key = require(request, "webhooks:write")
    body = await _body(request)
    return ok(
        await _ask(request, subjects.RPC_WEBHOOK_CREATE, {"tenant": key.tenant, "body": body}),
        status=201,
    )


async def list_webhooks(request: web.Request) -> web.Response:
    key = require(request, "webhooks:read")
    query = dict(request.query)
    result = await _ask(request, subjects.RPC_WEBHOOK_LIST, {"tenant": key.tenant, "query": query})
    return _paginated(result)


async def get_webhook(request: web.Request) -> web.Response:
    key = require(request, "webhooks:read")
    payload = {"tenant": key.tenant, "id": request.match_info["webhook_id"]}
    return ok(await _ask(request, subjects.RPC_WEBHOOK_GET, payload))


async def update_webhook(request: web.Request) -> web.Response:
    key = require(request, "webhooks:write")
    body = await _body(request)
    payload = {"tenant": key.tenant, "id": request.match_info["webhook_id"], "body": body}
    return ok(await _ask(request, subjects.RPC_WEBHOOK_UPDATE, payload))


async def delete_webhook(request: web.Request) -> web.Response:
    key = require(request, "webhooks:write")
    payload = {"tenant": key.tenant, "id": request.match_info["webhook_id"]}
    return ok(await _ask(request, subjects.RPC_WEBHOOK_DELETE, payload))


def _send_timeout(request: web.Request) -> float:
    """A test or retry sends a request now: wait for its timeout on top of the usual."""
    return GatewayContext.of(request).settings.rpc_timeout + 15.0


async def test_webhook(request: web.Request) -> web.Response:
    key = require(request, "webhooks:write")
    body = await _body(request, optional=True)
    payload = {"tenant": key.tenant, "id": request.match_info["webhook_id"], "body": body}
    return ok(await _ask(request, subjects.RPC_WEBHOOK_TEST, payload, _send_timeout(request)))


async def webhook_history(request: web.Request) -> web.Response:
    key = require(request, "webhooks:read")
    query = dict(request.query)
    payload = {"tenant": key.tenant, "id": request.match_info["webhook_id"], "query": query}
    return _paginated(await _ask(request, subjects.RPC_WEBHOOK_HISTORY, payload))


async def retry_delivery(request: web.Request) -> web.Response:
    key = require(request, "webhooks:write")
    payload = {
        "tenant": key.tenant,
        "id": request.match_info["webhook_id"],
        "deliveryId": request.match_info["delivery_id"],
    }
    return ok(await _ask(request, subjects.RPC_WEBHOOK_RETRY, payload, _send_timeout(request)))


def add_routes(app: web.Application, base: str = "/api/plugin-core/webhooks") -> None:
    app.router.add_post(base, create_webhook)
    app.router.add_get(base, list_webhooks)
    app.router.add_get(base + "/{webhook_id}", get_webhook)
    app.router.add_put(base + "/{webhook_id}", update_webhook)
    app.router.add_delete(base + "/{webhook_id}", delete_webhook)
    app.router.add_post(base + "/{webhook_id}/test", test_webhook)
    app.router.add_get(base + "/{webhook_id}/history", webhook_history)
    app.router.add_post(base + "/{webhook_id}/history/{delivery_id}/retry", retry_delivery)
