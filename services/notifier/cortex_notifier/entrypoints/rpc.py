"""Request/reply entry points: the Webhooks API the gateway forwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from contracts import subjects
from cortex_notifier.service_layer.webhooks import Webhooks
from runtime.messaging import serve_rpc

QUEUE = "notifier"


async def serve(
    nc: NATS, webhooks: Webhooks, created: Callable[[], Awaitable[None]]
) -> list[Subscription]:
    async def create(body: dict[str, Any]) -> Any:
        answer = await webhooks.create(body["tenant"], body.get("body"))
        await created()
        return answer

    async def list_(body: dict[str, Any]) -> Any:
        return await webhooks.list(body["tenant"], body.get("query", {}))

    async def get(body: dict[str, Any]) -> Any:
        return await webhooks.get(body["tenant"], body["id"])

    async def update(body: dict[str, Any]) -> Any:
        return await webhooks.update(body["tenant"], body["id"], body.get("body"))

    async def delete(body: dict[str, Any]) -> Any:
        return await webhooks.delete(body["tenant"], body["id"])

    async def test(body: dict[str, Any]) -> Any:
        return await webhooks.test(body["tenant"], body["id"], body.get("body"))

    async def history(body: dict[str, Any]) -> Any:
        return await webhooks.history(body["tenant"], body["id"], body.get("query", {}))

    async def retry(body: dict[str, Any]) -> Any:
        return await webhooks.retry(body["tenant"], body["id"], body["deliveryId"])

    routes = {
        subjects.RPC_WEBHOOK_CREATE: create,
        subjects.RPC_WEBHOOK_LIST: list_,
        subjects.RPC_WEBHOOK_GET: get,
        subjects.RPC_WEBHOOK_UPDATE: update,
        subjects.RPC_WEBHOOK_DELETE: delete,
        subjects.RPC_WEBHOOK_TEST: test,
        subjects.RPC_WEBHOOK_HISTORY: history,
        subjects.RPC_WEBHOOK_RETRY: retry,
    }
    return [await serve_rpc(nc, subject, handler, QUEUE) for subject, handler in routes.items()]
