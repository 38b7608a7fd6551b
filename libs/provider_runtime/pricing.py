"""Publish a network's current price per resource-hour to the `cortex-prices` bucket."""

from __future__ import annotations

from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import NetworkPrice
from provider_runtime.history import History
from provider_runtime.network import Network
from runtime.background import BackgroundTask, every
from runtime.logging import get_logger
from runtime.messaging import publish_event

log = get_logger(__name__)


def price_publisher(
    js: JetStreamContext, network: Network, interval: float, history: History
) -> BackgroundTask:
    """Refresh the price every `interval` seconds (a failed refresh is retried next time)."""

    last: list[NetworkPrice | None] = [None]

    async def publish() -> None:
        kv = await js.key_value(subjects.PRICES_BUCKET)
        price = await network.price()
        await kv.put(network.name, price.model_dump_json(by_alias=True).encode())
        if last[0] is not None and rates(price) != rates(last[0]):
            data = {"provider": network.name, "pricing": rates(price), "previous": rates(last[0])}
            subject = subjects.provider_event(network.name, "provider.pricing.changed")
            await publish_event(js, subject, "provider.pricing.changed", data)
        last[0] = price
        await history.record_price(price)
        await history.prune()
        log.info("provider.price", network=network.name, cpu_core_hour=price.cpu_core_hour)

    return every(interval, publish, f"{network.name}-price", retry_after=5.0)


def rates(price: NetworkPrice) -> dict[str, float | None]:
    """USD per resource-hour, rounded so float noise is not a price change."""
    return {
        "cpuCoreHour": round(price.cpu_core_hour, 9),
        "memoryGbHour": round(price.memory_gb_hour, 9),
        "storageGbHour": round(price.storage_gb_hour, 9),
        "gpuHour": None if price.gpu_hour is None else round(price.gpu_hour, 9),
    }
