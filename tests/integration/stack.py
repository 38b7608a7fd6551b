"""The whole system in this test's event loop: gateway, scheduler, and each network's provider service with its devnet."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from cortex_gateway.bootstrap import GatewayService
from cortex_gateway.settings import GatewaySettings, RateLimit
from cortex_notifier.bootstrap import NotifierService
from cortex_notifier.settings import NotifierSettings
from cortex_scheduler.bootstrap import SchedulerService
from cortex_scheduler.settings import SchedulerSettings
from provider_runtime.service import ProviderService
from runtime.secretbox import generate_key
from tests.integration.networks import STARTERS, NetworkUnderTest

ADMIN_KEY = "ctx_test_admin_" + secrets.token_hex(8)
SECRETS_KEY = generate_key()
JOBS = "/api/plugin-core/jobs"

SPEC: dict[str, Any] = {
    "provider": "akash",
    "image": "alpine:3.20",
    "cpu": 250,
    "memory": "64Mi",
    "storage": "128Mi",
    "duration": 60,
}


@dataclass
class Stack:
    base_url: str
    scheduler: SchedulerService
    gateway: GatewayService
    http: aiohttp.ClientSession
    networks: dict[str, NetworkUnderTest]
    key: str = ADMIN_KEY
    extra: dict[str, Any] = field(default_factory=dict)
    notifier: NotifierService | None = None

    @property
    def devnet(self) -> Any:
        """The Akash devnet (most tests run on Akash alone)."""
        return self.networks["akash"].devnet

    @property
    def akash(self) -> ProviderService:
        return self.networks["akash"].service

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    async def call(
        self, method: str, path: str, key: str | None = None, **kwargs: Any
    ) -> tuple[int, dict[str, Any], Any]:
        """(status, headers, JSON body) of one API call."""
        headers = {**self.auth(key), **kwargs.pop("headers", {})}
        async with self.http.request(method, self.base_url + path, headers=headers, **kwargs) as r:
            body = await r.json(content_type=None)
            return r.status, dict(r.headers), body

    async def submit(self, **overrides: Any) -> dict[str, Any]:
        status, _, body = await self.call("POST", JOBS, json={**SPEC, **overrides})
        assert status == 201, body
        job: dict[str, Any] = body["data"]
        return job

    async def job(self, job_id: str, key: str | None = None) -> dict[str, Any]:
        status, _, body = await self.call("GET", f"{JOBS}/{job_id}", key)
        assert status == 200, body
        job: dict[str, Any] = body["data"]
        return job

    async def wait_for(
        self, job_id: str, statuses: set[str], timeout: float = 30
    ) -> dict[str, Any]:
        job: dict[str, Any] = {}
        try:
            async with asyncio.timeout(timeout):
                while True:
                    job = await self.job(job_id)
                    if job["status"] in statuses:
                        return job
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(f"job {job_id} stuck in {job.get('status')}: {job}") from None

    async def devnet_state(self, network: str = "akash") -> dict[str, Any]:
        async with self.http.get(self.networks[network].devnet.url + "/control/state") as r:
            state: dict[str, Any] = await r.json()
            return state

    async def control(
        self, method: str, path: str, body: Any = None, network: str = "akash"
    ) -> Any:
        url = self.networks[network].devnet.url + path
        async with self.http.request(method, url, json=body) as r:
            assert r.status < 300, await r.text()
            return await r.json(content_type=None)

    async def leaks(self, network: str) -> dict[str, Any]:
        """What is still open on `network`'s devnet (empty lists: nothing)."""
        state = await self.devnet_state(network)
        return {key: state[key] for key in self.networks[network].leak_keys if state[key]}


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


def notifier_settings(nats_url: str, database_url: str, **overrides: Any) -> NotifierSettings:
    """A notifier for tests: fast retries (scale 0.01), short timeout, local targets allowed."""
    settings: dict[str, Any] = {
        "nats_url": nats_url,
        "database_url": database_url,
        "heartbeat_interval": 0.2,
        "secrets_key": SECRETS_KEY,
        "webhook_retry_scale": 0.01,
        "webhook_timeout": 2.0,
        "webhook_allow_private_urls": True,
        "webhook_poll_interval": 0.05,
        **overrides,
    }
    return NotifierSettings(**settings)


async def start_stack(
    nats_url: str,
    database_url: str,
    work_dir: Path,
    networks: tuple[str, ...] = ("akash",),
    **overrides: Any,
) -> Stack:
    """`networks` picks the provider services (with their devnets); `notifier={...settings}`
    (or True) adds the notifier."""
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "database_url": database_url,
        "heartbeat_interval": 0.2,
    }
    provider_common = {
        **common,
        "claim_interval": 0.2,
        "price_refresh": overrides.get("price_refresh", 60),
        "health_interval": overrides.get("health_interval", 0.2),
        "secrets_key": SECRETS_KEY,
        "metrics_interval": overrides.get("metrics_interval", 10.0),
    }
    started = {
        name: await STARTERS[name](provider_common, work_dir, overrides) for name in networks
    }
    scheduler = SchedulerService(
        SchedulerSettings(
            **common,
            timer_interval=0.1,
            providers=",".join(networks),
            cancel_timeout=overrides.get("cancel_timeout", 10.0),
            cost_thresholds=overrides.get("cost_thresholds", "0.5,0.8,1.0"),
            cost_check_interval=overrides.get("cost_check_interval", 5.0),
            schedule_interval=overrides.get("schedule_interval", 0.2),
            batch_sweep_interval=overrides.get("batch_sweep_interval", 0.5),
            log_retention_lines=overrides.get("log_retention_lines", 100_000),
        )
    )
    notifier = None
    if overrides.get("notifier"):
        extra = overrides["notifier"] if isinstance(overrides["notifier"], dict) else {}
        notifier = NotifierService(notifier_settings(nats_url, database_url, **extra))
    gateway = GatewayService(
        GatewaySettings(
            **common,
            http_port=0,
            bootstrap_api_key=ADMIN_KEY,
            heartbeat_timeout=2.0,
            providers=",".join(networks),
            expected_services=",".join(
                ["scheduler", *(f"provider-{n}" for n in networks)]
                + (["notifier"] if notifier else [])
            ),
            provider_stale_after=overrides.get("provider_stale_after", 5.0),
            rate_limit=overrides.get("rate_limit", RateLimit(rate=10_000, burst=10_000)),
            tenant_rate_limits=overrides.get("tenant_rate_limits", {}),
            max_duration_seconds=overrides.get("max_duration", 3600),
            sse_heartbeat=overrides.get("sse_heartbeat", 15.0),
            sse_buffer_bytes=overrides.get("sse_buffer_bytes", 4 * 1024 * 1024),
            sse_write_timeout=overrides.get("sse_write_timeout", 10.0),
        )
    )
    await scheduler.start()
    for network in started.values():
        await network.service.start()
    if notifier:
        await notifier.start()
    await gateway.start()
    http = aiohttp.ClientSession()
    stack = Stack(f"http://127.0.0.1:{gateway.port}", scheduler, gateway, http, started)
    stack.notifier = notifier

    async def ready() -> bool:
        async with http.get(stack.base_url + "/healthz") as r:
            return r.status == 200 and all(
                scheduler.prices.get(n) is not None and gateway.providers.get(n) is not None
                for n in networks
            )

    await wait_until(ready)
    return stack


async def stop_stack(stack: Stack) -> None:
    await stack.http.close()
    parts: list[tuple[str, Any]] = [("gateway", stack.gateway), ("notifier", stack.notifier)]
    parts += [(f"provider-{n}", net.service) for n, net in stack.networks.items()]
    parts += [("scheduler", stack.scheduler)]
    parts += [(f"devnet-{n}", net.devnet) for n, net in stack.networks.items()]
    for name, part in parts:
        if part is None:
            continue
        try:
            await asyncio.wait_for(part.stop(), 15)
        except TimeoutError:
            for task in asyncio.all_tasks():
                task.print_stack(limit=4)
            raise AssertionError(f"{name} did not stop within 15 s") from None
