"""The optional interface of a network adapter that can read a running job's logs and usage.

Separate from `Network` so an adapter without it still works (its jobs have no logs or
metrics); `ProviderService` uses it when `isinstance(network, Telemetry)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from contracts.telemetry import LogRecord
from provider_runtime.model import Deployment


@dataclass(frozen=True)
class LogCursor:
    """Where a job's published log ends: its last seq and that line's timestamp (0, None:
    nothing published yet). Adapters resume after it without repeating or skipping lines."""

    seq: int = 0
    timestamp: str | None = None


@dataclass(frozen=True)
class Usage:
    """Resource use since the previous sample; None where the network does not measure it."""

    cpu_millicores: float
    memory_bytes: int
    rx_bytes: int | None = None
    tx_bytes: int | None = None


@runtime_checkable
class Telemetry(Protocol):
    """Logs and usage of a running job, read from the network."""

    def logs(self, d: Deployment, after: LogCursor) -> AsyncIterator[LogRecord]:
        """Every line after `after`, then live lines; ends once the workload's output ended.
        Records carry consecutive seqs from `after.seq + 1` and lines already cut to size."""
        ...

    async def usage(self, d: Deployment) -> Usage | None:
        """The workload's use since the previous call (None: nothing running to measure)."""
        ...
