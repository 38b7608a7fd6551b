"""Check the network continuously; publish its health and announce every change."""

from __future__ import annotations

import time
from collections import deque

from nats.aio.client import Client as NATS

from contracts import subjects
from contracts.reports import NetworkHealth, ProviderStatus
from contracts.timefmt import format_time, utcnow
from provider_runtime.history import History
from provider_runtime.network import Network, NetworkError
from runtime.background import BackgroundTask, every
from runtime.logging import get_logger
from runtime.messaging import publish_event

log = get_logger(__name__)
WINDOW = 10  # recent checks the error rate is computed over
OFFLINE_AFTER = 3  # consecutive failures
SLOW_MS = 2000.0


class HealthTracker:
    """Turns check results into online / degraded / offline."""

    def __init__(self, network: str) -> None:
        self._network = network
        self._results: deque[bool] = deque(maxlen=WINDOW)
        self._failures_in_a_row = 0

    def record(self, ok: bool, latency_ms: float | None, message: str | None) -> ProviderStatus:
        self._results.append(ok)
        self._failures_in_a_row = 0 if ok else self._failures_in_a_row + 1
        error_rate = self._results.count(False) / len(self._results)
        if self._failures_in_a_row >= OFFLINE_AFTER:
            status = NetworkHealth.OFFLINE
        elif not ok or error_rate > 0.2 or (latency_ms or 0) > SLOW_MS:
            status = NetworkHealth.DEGRADED
        else:
            status = NetworkHealth.ONLINE
        return ProviderStatus(
            network=self._network,
            status=status,
            latency_ms=None if latency_ms is None else round(latency_ms, 1),
            error_rate=round(error_rate, 3),
            checked_at=format_time(utcnow()) or "",
            message=message,
        )


def health_monitor(nc: NATS, network: Network, interval: float, history: History) -> BackgroundTask:
    tracker = HealthTracker(network.name)
    last: list[NetworkHealth | None] = [None]

    async def check() -> None:
        started = time.perf_counter()
        try:
            await network.probe()
            latency_ms: float | None = (time.perf_counter() - started) * 1000
            status = tracker.record(True, latency_ms, None)
        except NetworkError as exc:
            latency_ms = None
            status = tracker.record(False, None, exc.message)
        await history.record_check(latency_ms is not None, latency_ms)
        js = nc.jetstream()
        kv = await js.key_value(subjects.PROVIDER_STATUS_BUCKET)
        await kv.put(status.network, status.model_dump_json(by_alias=True).encode())
        if status.status is not last[0]:
            await _announce(nc, status, last[0])
            last[0] = status.status

    return every(interval, check, f"{network.name}-health")


async def _announce(nc: NATS, status: ProviderStatus, previous: NetworkHealth | None) -> None:
    """`provider.status.changed` on the public stream."""
    data = {
        "provider": status.network,
        "status": status.status.value,
        "previous": None if previous is None else previous.value,
        "latencyMs": status.latency_ms,
        "message": status.message,
    }
    subject = subjects.provider_event(status.network, "provider.status.changed")
    await publish_event(nc.jetstream(), subject, "provider.status.changed", data)
    log.info("provider.status_changed", status=status.status.value, previous=data["previous"])
