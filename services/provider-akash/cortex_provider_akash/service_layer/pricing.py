"""Publish Akash's current price per resource-hour to the `cortex-prices` bucket."""

from __future__ import annotations

from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import NetworkPrice
from contracts.timefmt import format_time, utcnow
from cortex_provider_akash.adapters.console import ConsoleClient
from runtime.background import BackgroundTask, every
from runtime.logging import get_logger
from runtime.messaging import publish_event

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


def price_publisher(
    js: JetStreamContext, console: ConsoleClient, interval: float
) -> BackgroundTask:
    """Refresh the price every `interval` seconds (a failed refresh is retried next time)."""

    last: list[NetworkPrice | None] = [None]

    async def publish() -> None:
        kv = await js.key_value(subjects.PRICES_BUCKET)
        price = await current_price(console)
        await kv.put("akash", price.model_dump_json(by_alias=True).encode())
        if last[0] is not None and _rates(price) != _rates(last[0]):
            data = {"provider": "akash", "pricing": _rates(price), "previous": _rates(last[0])}
            subject = subjects.provider_event("akash", "provider.pricing.changed")
            await publish_event(js, subject, "provider.pricing.changed", data)
        last[0] = price
        log.info("akash.price", cpu_core_hour=price.cpu_core_hour)

    return every(interval, publish, "akash-price", retry_after=5.0)


def _rates(price: NetworkPrice) -> dict[str, float | None]:
    """USD per resource-hour, rounded so float noise is not a price change."""
    return {
        "cpuCoreHour": round(price.cpu_core_hour, 9),
        "memoryGbHour": round(price.memory_gb_hour, 9),
        "storageGbHour": round(price.storage_gb_hour, 9),
        "gpuHour": None if price.gpu_hour is None else round(price.gpu_hour, 9),
    }
