"""The whole system in this test's event loop: gateway, scheduler, provider-akash, Akash devnet."""

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
from cortex_provider_akash.bootstrap import AkashService
from cortex_provider_akash.settings import AkashSettings
from cortex_scheduler.bootstrap import SchedulerService
from cortex_scheduler.settings import SchedulerSettings
from devnets.akash.app import AkashDevnet, start_akash_devnet
from devnets.akash.settings import AkashDevnetSettings

ADMIN_KEY = "ctx_test_admin_" + secrets.token_hex(8)
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
    devnet: AkashDevnet
    scheduler: SchedulerService
    gateway: GatewayService
    akash: AkashService
    http: aiohttp.ClientSession
    key: str = ADMIN_KEY
    extra: dict[str, Any] = field(default_factory=dict)

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

    async def devnet_state(self) -> dict[str, Any]:
        async with self.http.get(self.devnet.url + "/control/state") as r:
            state: dict[str, Any] = await r.json()
            return state

    async def control(self, method: str, path: str, body: Any = None) -> None:
        async with self.http.request(method, self.devnet.url + path, json=body) as r:
            assert r.status < 300, await r.text()


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def start_stack(nats_url: str, database_url: str, work_dir: Path, **overrides: Any) -> Stack:
    devnet = await start_akash_devnet(
        AkashDevnetSettings(
            work_dir=work_dir / "devnet",
            zero_delay=True,
            stop_grace_seconds=1.0,
            enforce_memory_limit=overrides.get("enforce_memory_limit", False),
        )
    )
    common: dict[str, Any] = {
        "nats_url": nats_url,
        "database_url": database_url,
        "heartbeat_interval": 0.2,
    }
    scheduler = SchedulerService(
        SchedulerSettings(
            **common,
            timer_interval=0.1,
            cancel_timeout=overrides.get("cancel_timeout", 10.0),
            cost_thresholds=overrides.get("cost_thresholds", "0.5,0.8,1.0"),
            cost_check_interval=overrides.get("cost_check_interval", 5.0),
            schedule_interval=overrides.get("schedule_interval", 0.2),
            batch_sweep_interval=overrides.get("batch_sweep_interval", 0.5),
        )
    )
    akash = AkashService(
        AkashSettings(
            **common,
            akash_api_url=devnet.url,
            akash_api_key=devnet.api_key,
            akash_bid_window=overrides.get("bid_window", 3.0),
            akash_poll_interval=0.05,
            akash_bid_collect=0.0,
            akash_status_interval=0.2,
            akash_price_refresh=overrides.get("price_refresh", 60),
            akash_request_timeout=overrides.get("request_timeout", 30.0),
            claim_interval=0.2,
            akash_health_interval=overrides.get("health_interval", 0.2),
        )
    )
    gateway = GatewayService(
        GatewaySettings(
            **common,
            http_port=0,
            bootstrap_api_key=ADMIN_KEY,
            heartbeat_timeout=2.0,
            provider_stale_after=overrides.get("provider_stale_after", 5.0),
            rate_limit=overrides.get("rate_limit", RateLimit(rate=10_000, burst=10_000)),
            tenant_rate_limits=overrides.get("tenant_rate_limits", {}),
            max_duration_seconds=overrides.get("max_duration", 3600),
        )
    )
    await scheduler.start()
    await akash.start()
    await gateway.start()
    http = aiohttp.ClientSession()
    stack = Stack(f"http://127.0.0.1:{gateway.port}", devnet, scheduler, gateway, akash, http)

    async def ready() -> bool:
        async with http.get(stack.base_url + "/healthz") as r:
            return (
                r.status == 200
                and scheduler.prices.get("akash") is not None
                and gateway.providers.get("akash") is not None
            )

    await wait_until(ready)
    return stack


async def stop_stack(stack: Stack) -> None:
    await stack.http.close()
    for name in ("gateway", "akash", "scheduler", "devnet"):
        try:
            await asyncio.wait_for(getattr(stack, name).stop(), 15)
        except TimeoutError:
            for task in asyncio.all_tasks():
                task.print_stack(limit=4)
            raise AssertionError(f"{name} did not stop within 15 s") from None
