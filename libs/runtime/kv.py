"""Keep a local copy of a JetStream key-value bucket, current through a watch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from nats.js import JetStreamContext

from runtime.logging import get_logger

log = get_logger(__name__)
V = TypeVar("V")


class KeyValueMirror(Generic[V]):
    """`get(key)` answers from memory; entries are parsed with `parse` as they change."""

    def __init__(self, bucket: str, parse: Callable[[bytes], V]) -> None:
        self._bucket, self._parse = bucket, parse
        self._values: dict[str, V] = {}
        self._task: asyncio.Task[None] | None = None
        self._watcher: Any = None

    def get(self, key: str) -> V | None:
        return self._values.get(key)

    def put(self, key: str, value: V) -> None:
        self._values[key] = value

    async def start(self, js: JetStreamContext) -> None:
        kv = await js.key_value(self._bucket)
        self._watcher = await kv.watchall()
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def stop(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        async for entry in self._watcher:
            if entry is None or entry.value is None:
                continue
            try:
                self._values[entry.key] = self._parse(entry.value)
            except ValueError:
                log.warning("kv.invalid_entry", bucket=self._bucket, key=entry.key)
