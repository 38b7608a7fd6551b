"""The one interface a network implements: deploy, watch, release, extend, price, probe."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import aiohttp

from contracts.job import JobSpec
from contracts.reports import NetworkPrice
from provider_runtime.model import Deployment, Outcome
from runtime.logging import get_logger

if TYPE_CHECKING:
    from provider_runtime.settings import ProviderSettings

log = get_logger(__name__)
T = TypeVar("T")
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def http_session(**options: Any) -> aiohttp.ClientSession:
    """An aiohttp session without its default cap of 100 open connections.

    Every deployment in flight holds a connection of its own for as long as it runs (a log
    or event websocket, a long poll); under the cap the 101st job's stream waited for
    another job to end, and the network's plain calls queued behind the streams.
    """
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), **options)


class NetworkError(Exception):
    """The network answered with an error, or not at all (status 0)."""

    def __init__(self, status: int, message: str, network: str = "network") -> None:
        super().__init__(f"{network} error {status}: {message}")
        self.status = status
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status in RETRYABLE_STATUSES


class Refused(Exception):
    """The network will not run this job (no offers, refused, unsupported): the job fails."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExtendRefused(Exception):
    """The network cannot give this job more time; `reason` says why (HTTP 409)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Placement:
    """Resources the network now holds (and bills) for the job."""

    hourly_rate_usd: float
    details: dict[str, Any] = field(default_factory=dict)  # shown in the `job.scheduled` event
    at: datetime | None = None  # when billing began, if the network says (cost runs from it)


@dataclass(frozen=True)
class Started:
    """The workload is running (since `at`, if the network says)."""

    at: datetime | None = None


Observation = Started | Outcome
SaveHandle = Callable[[Deployment], Awaitable[None]]


class Network(Protocol):
    """A network adapter. Every method may be cancelled at any await (a cancel or a shutdown
    interrupts it); `deploy` must therefore `save` the handle *before* each call that creates
    something billed, so `release` can find and free it after a crash or an interruption."""

    name: str

    async def open(self) -> None:
        """Open clients and sessions (called once at start)."""

    async def close(self) -> None:
        """Close what open() opened."""

    def unsupported(self, spec: JobSpec) -> str | None:
        """Why this network can never run `spec`, or None."""

    async def deploy(self, d: Deployment, save: SaveHandle) -> Placement:
        """Acquire resources and start the workload; resumable from `d.handle`.
        Raises Refused when the network will not take the job."""

    def watch(self, d: Deployment) -> AsyncIterator[Observation]:
        """Started (once), then the Outcome when the workload ends or its resources are lost."""

    async def release(self, d: Deployment) -> None:
        """Free everything the job holds on the network; idempotent, safe on a partial handle."""

    async def extend(self, d: Deployment, total_seconds: int) -> dict[str, Any]:
        """Let the running job run `total_seconds` in all; raises ExtendRefused."""

    async def price(self) -> NetworkPrice:
        """The network's current price, normalized to USD per resource-hour."""

    async def probe(self) -> None:
        """One cheap call that proves the network answers; raises NetworkError."""


@runtime_checkable
class Reconfigurable(Protocol):
    """An adapter that takes new settings while running (Providers API `PUT`)."""

    async def reconfigure(self, settings: ProviderSettings) -> None:
        """Use `settings` from now on; calls already in flight may finish on the old ones."""


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2**attempt))


async def retrying(call: Callable[[], Awaitable[T]], max_retries: int, what: str) -> T:
    """`call()`; a retryable NetworkError (429, 5xx, no answer) is retried with backoff."""
    attempt = 0
    while True:
        try:
            return await call()
        except NetworkError as exc:
            if not exc.retryable or attempt >= max_retries:
                raise
            delay = backoff(attempt)
            log.info("network.retry", call=what, status=exc.status, delay=round(delay, 3))
            await asyncio.sleep(delay)
            attempt += 1
