"""Publish Akash's current price per resource-hour to the `cortex-prices` bucket."""

from __future__ import annotations

import asyncio
import contextlib

from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import NetworkPrice
from contracts.timefmt import format_time, utcnow
from cortex_provider_akash.adapters.console import ConsoleClient
from runtime.logging import get_logger

log = get_logger(__name__)
HOURS_PER_MONTH = 730.5  # Console's month
GB = 1_000_000_000


async def current_price(console: ConsoleClient) -> NetworkPrice:
    """Per-unit rates from Console's monthly estimate, by varying one resource at a time."""
    base = await console.monthly_estimate(1000, GB, GB)
    cpu = await console.monthly_estimate(2000, GB, GB) - base
    memory = await console.monthly_estimate(1000, 2 * GB, GB) - base
    storage = await console.monthly_estimate(1000, GB, 2 * GB) - base
    return NetworkPrice(
        network="akash",
        cpu_core_hour=max(cpu, 0.0) / HOURS_PER_MONTH,
        memory_gb_hour=max(memory, 0.0) / HOURS_PER_MONTH,
        storage_gb_hour=max(storage, 0.0) / HOURS_PER_MONTH,
        updated_at=format_time(utcnow()) or "",
    )


class PricePublisher:
    def __init__(self, js: JetStreamContext, console: ConsoleClient, interval: float) -> None:
        self._js, self._console, self._interval = js, console, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        kv = await self._js.key_value(subjects.PRICES_BUCKET)
        while True:
            try:
                price = await current_price(self._console)
                await kv.put("akash", price.model_dump_json(by_alias=True).encode())
                log.info("akash.price", cpu_core_hour=price.cpu_core_hour)
                await asyncio.sleep(self._interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("akash.price_failed", error=str(exc))
                await asyncio.sleep(min(self._interval, 5.0))
