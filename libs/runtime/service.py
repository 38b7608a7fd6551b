"""Run a service process: logging, metrics endpoint, heartbeat, graceful shutdown."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable
from typing import Protocol

from nats.aio.client import Client as NATS

from contracts import subjects
from runtime import codec
from runtime.background import BackgroundTask, every
from runtime.logging import configure_logging, get_logger
from runtime.metrics import start_metrics_server
from runtime.settings import ServiceSettings

log = get_logger(__name__)


class Component(Protocol):
    """A service's whole run time: start it, then stop it (draining in-flight work)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def heartbeat(nc: NATS, service: str, instance: str, interval: float) -> BackgroundTask:
    """Publishes `cortex.heartbeat.<service>` so the gateway's /healthz knows we are alive."""
    payload = codec.dumps({"service": service, "instance": instance})

    async def beat() -> None:
        await nc.publish(subjects.heartbeat(service), payload)

    return every(interval, beat, "heartbeat")


async def run_until_signalled(component: Component, settings: ServiceSettings) -> None:
    """Start `component`, serve metrics, and stop cleanly on SIGINT/SIGTERM."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    metrics = await start_metrics_server(settings.metrics_host, settings.metrics_port)
    await component.start()
    settle_garbage_collector()
    log.info("service.started", instance=settings.instance_id)
    await stopping.wait()
    log.info("service.stopping")
    try:
        await asyncio.wait_for(component.stop(), timeout=settings.shutdown_grace)
    except TimeoutError:
        log.warning("service.stop_timeout", grace=settings.shutdown_grace)
    await metrics.cleanup()
    log.info("service.stopped")


def settle_garbage_collector() -> None:
    """Move everything built at start-up out of the collector's sight and collect young
    objects less often: a service allocates a few objects per message, and full
    collections walking the whole heap show up as latency spikes under load."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def run_service(settings: ServiceSettings, build: Callable[[ServiceSettings], Component]) -> None:
    """The body of every service's `__main__`."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency; this keeps dev shells working
        pass
    asyncio.run(run_until_signalled(build(settings), settings))
