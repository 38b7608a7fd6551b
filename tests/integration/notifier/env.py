"""Gateway + notifier against real NATS and PostgreSQL, and a real subscriber server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from nats.aio.client import Client as NATS

from contracts import subjects
from contracts.events import envelope, new_event_id
from contracts.timefmt import utcnow
from cortex_gateway.bootstrap import GatewayService
from cortex_gateway.settings import GatewaySettings
from cortex_notifier.bootstrap import NotifierService
from runtime import codec
from runtime.messaging import connect
from runtime.tracing import TENANT_HEADER
from tests.integration.stack import ADMIN_KEY, notifier_settings

WEBHOOKS = "/api/plugin-core/webhooks"


@dataclass
class Behaviour:
    """How one receiver path answers: fail `fail_times` first, wait `delay`, or redirect."""

    fail_times: int = 0
    fail_status: int = 500
    delay: float = 0.0
    redirect_to: str | None = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


class Receiver:
    """A subscriber's HTTP server; every request it gets is kept in `received`."""

    def __init__(self) -> None:
        self.behaviours: dict[str, Behaviour] = {}
        self.received: list[Received] = []
        self._calls: dict[str, int] = {}
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self._runner.cleanup()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def hits(self, name: str) -> list[Received]:
        return [r for r in self.received if r.path == name]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = await request.read()
        self.received.append(Received(name, dict(request.headers), body, time.monotonic()))
        behaviour = self.behaviours.get(name, Behaviour())
        calls = self._calls[name] = self._calls.get(name, 0) + 1
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if behaviour.redirect_to:
            raise web.HTTPFound(behaviour.redirect_to)
        if calls <= behaviour.fail_times:
            return web.Response(status=behaviour.fail_status, text="nope")
        return web.Response(status=200, text="ok")


@dataclass
class WebhookEnv:
    nats_url: str
    database_url: str
    gateway: GatewayService
    notifier: NotifierService
    http: aiohttp.ClientSession
    nc: NATS
    receiver: Receiver
    key: str = ADMIN_KEY
    notifier_overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    async def call(
        self, method: str, path: str, key: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key or self.key}", **kwargs.pop("headers", {})}
        async with self.http.request(method, self.base_url + path, headers=headers, **kwargs) as r:
            return r.status, await r.json(content_type=None)

    async def create(self, key: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"name": "hook", "events": ["job.completed"], **fields}
        status, answer = await self.call("POST", WEBHOOKS, key, json=body)
        assert status == 201, answer
        created: dict[str, Any] = answer["data"]
        return created

    async def publish(
        self,
        event_type: str = "job.completed",
        tenant: str | None = "default",
        data: dict[str, Any] | None = None,
    ) -> str:
        """Publish a public event as the scheduler (job) or a provider service does."""
        event_id = new_event_id()
        body = codec.dumps(envelope(event_id, event_type, utcnow(), data or {"n": 1}))
        if event_type.startswith("provider."):
            subject = subjects.provider_event("akash", event_type)
        else:
            subject = subjects.job_event("job_" + event_id[-8:], event_type)
        headers = {"Nats-Msg-Id": event_id}
        if tenant:
            headers[TENANT_HEADER] = tenant
        await self.nc.jetstream().publish(subject, body, headers=headers)
        return event_id

    async def history(self, webhook_id: str, key: str | None = None, **params: Any) -> Any:
        status, body = await self.call(
            "GET", f"{WEBHOOKS}/{webhook_id}/history", key, params=params
        )
        assert status == 200, body
        return body

    async def wait_history(
        self,
        webhook_id: str,
        check: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 15,
        key: str | None = None,
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    status, body = await self.call(
                        "GET", f"{WEBHOOKS}/{webhook_id}/history", key, params={"limit": 100}
                    )
                    # 503 while a notifier process is still starting; anything else is final.
                    assert status in (200, 503), body
                    items = body["data"] if status == 200 else items
                    if status == 200 and check(items):
                        return items
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"history of {webhook_id} never matched: {items}") from None

    async def restart_notifier(self, **overrides: Any) -> None:
        """Stop the notifier (gracefully) and start a new one with these settings."""
        await self.notifier.stop()
        await self.start_notifier(**overrides)

    async def stop_retries(self) -> None:
        """Retries far in the future (scale 1000): a failed delivery stays `retrying`."""
        await self.restart_notifier(webhook_retry_scale=1000.0)

    async def start_notifier(self, **overrides: Any) -> None:
        self.notifier = NotifierService(
            notifier_settings(
                self.nats_url, self.database_url, **{**self.notifier_overrides, **overrides}
            )
        )
        await self.notifier.start()


async def wait_until(check: Callable[[], Awaitable[bool] | bool], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.05)


async def start_env(nats_url: str, database_url: str, **notifier: Any) -> WebhookEnv:
    receiver = Receiver()
    await receiver.start()
    service = NotifierService(notifier_settings(nats_url, database_url, **notifier))
    await service.start()
    gateway = GatewayService(
        GatewaySettings(
            nats_url=nats_url,
            database_url=database_url,
            heartbeat_interval=0.2,
            http_port=0,
            bootstrap_api_key=ADMIN_KEY,
            expected_services="notifier",
        )
    )
    await gateway.start()
    nc = await connect(nats_url, "webhook-tests")
    env = WebhookEnv(
        nats_url, database_url, gateway, service, aiohttp.ClientSession(), nc, receiver,
        notifier_overrides=notifier,
    )  # fmt: skip
    return env


async def stop_env(env: WebhookEnv) -> None:
    await env.http.close()
    await env.nc.close()
    await env.gateway.stop()
    await env.notifier.stop()
    await env.receiver.stop()
