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


class PricePublisher:
    """Refreshes the network's price into KV `cortex-prices`; announces every change."""

    def __init__(self, js: JetStreamContext, network: Network, history: History) -> None:
        self._js, self._network, self._history = js, network, history
        self._last: NetworkPrice | None = None

    def every(self, interval: float) -> BackgroundTask:
        """Refresh every `interval` seconds (a failed refresh is retried after 5 s)."""
        return every(interval, self.publish, f"{self._network.name}-price", retry_after=5.0)

    async def publish(self) -> None:
        name = self._network.name
        kv = await self._js.key_value(subjects.PRICES_BUCKET)
        price = await self._network.price()
        await kv.put(name, price.model_dump_json(by_alias=True).encode())
        last, self._last = self._last, price
        if last is not None and rates(price) != rates(last):
            data = {"provider": name, "pricing": rates(price), "previous": rates(last)}
            subject = subjects.provider_event(name, "provider.pricing.changed")
            await publish_event(self._js, subject, "provider.pricing.changed", data)
        await self._history.record_price(price)
        await self._history.prune()
        log.info("provider.price", network=name, cpu_core_hour=price.cpu_core_hour)


def rates(price: NetworkPrice) -> dict[str, float | None]:
    """USD per resource-hour, rounded so float noise is not a price change."""
    return {
        "cpuCoreHour": round(price.cpu_core_hour, 9),
        "memoryGbHour": round(price.memory_gb_hour, 9),
        "storageGbHour": round(price.storage_gb_hour, 9),
        "gpuHour": None if price.gpu_hour is None else round(price.gpu_hour, 9),
    }
