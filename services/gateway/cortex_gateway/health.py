"""What `/healthz` reports: NATS, PostgreSQL and a recent heartbeat from every service."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from contracts import subjects
from runtime import codec


class HealthMonitor:
    def __init__(self, nc: NATS, pool: asyncpg.Pool, expected: list[str], timeout: float) -> None:
        self._nc, self._pool, self._expected, self._timeout = nc, pool, expected, timeout
        self._last_seen: dict[str, float] = {}

    async def start(self) -> None:
        await self._nc.subscribe(f"{subjects.HEARTBEAT_PREFIX}.*", cb=self._on_heartbeat)

    async def _on_heartbeat(self, msg: Msg) -> None:
        service = msg.subject.rsplit(".", 1)[-1]
        self._last_seen[service] = time.monotonic()

    async def check(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {"nats": "up" if self._nc.is_connected else "down"}
        try:
            await self._pool.fetchval("SELECT 1", timeout=2)
            checks["postgres"] = "up"
        except Exception:
            checks["postgres"] = "down"
        now = time.monotonic()
        services = {"gateway": "up"}
        for name in self._expected:
            seen = self._last_seen.get(name)
            services[name] = "up" if seen is not None and now - seen < self._timeout else "down"
        checks["services"] = services
        healthy = (
            checks["nats"] == "up"
            and checks["postgres"] == "up"
            and all(state == "up" for state in services.values())
        )
        return healthy, checks

    def heartbeat_payload(self) -> bytes:
        return codec.dumps({"service": "gateway"})
