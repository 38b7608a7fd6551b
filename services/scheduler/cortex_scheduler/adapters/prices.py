"""The latest price of every network, kept current from the `cortex-prices` bucket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from contracts import subjects
from contracts.reports import NetworkPrice
from runtime.logging import get_logger

log = get_logger(__name__)


class PriceBook:
    def __init__(self) -> None:
        self._prices: dict[str, NetworkPrice] = {}
        self._task: asyncio.Task[None] | None = None
        self._watcher: Any = None

    def get(self, network: str) -> NetworkPrice | None:
        return self._prices.get(network)

    def put(self, price: NetworkPrice) -> None:
        self._prices[price.network] = price

    async def start(self, js: JetStreamContext) -> None:
        kv = await js.key_value(subjects.PRICES_BUCKET)
        self._task = asyncio.get_running_loop().create_task(self._watch(kv))

    async def stop(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self, kv: KeyValue) -> None:
        self._watcher = watcher = await kv.watchall()
        async for entry in watcher:
            if entry is None or entry.value is None:
                continue
            try:
                self.put(NetworkPrice.model_validate_json(entry.value))
            except ValueError:
                log.warning("prices.invalid_entry", key=entry.key)
