"""The Akash provider's own gateway: logs and Kubernetes events (websockets), usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from provider_runtime.websocket import text_stream
from runtime import codec

NORMAL_CLOSES = (1000, 4000, 4001)  # ended; no running pods; lease gone: no more lines
HEARTBEAT = 30.0  # seconds of silence before a stream's server is pinged


class LogStreamBroken(Exception):
    """The log websocket closed before the workload's output ended."""


class LeaseGateway:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def kubeevents(
        self, host_uri: str, token: str, dseq: str, gseq: int, oseq: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Every Kubernetes event of the lease so far, then new ones as they happen."""
        url = f"{host_uri}/lease/{dseq}/{gseq}/{oseq}/kubeevents?follow=true"
        async with text_stream(url, _bearer(token), heartbeat=HEARTBEAT) as messages:
            async for text in messages:
                event = codec.loads(text)
                if isinstance(event, dict):
                    yield event

    async def logs(
        self, host_uri: str, token: str, dseq: str, gseq: int, oseq: int
    ) -> AsyncIterator[str]:
        """Every retained output line of the lease (stdout and stderr merged, like
        `kubectl logs`), then live ones; ends when the workload has ended."""
        url = f"{host_uri}/lease/{dseq}/{gseq}/{oseq}/logs?follow=true&tail=-1"
        async with text_stream(url, _bearer(token), heartbeat=HEARTBEAT) as messages:
            async for text in messages:
                item = codec.loads(text)
                if isinstance(item, dict):
                    yield str(item.get("message", ""))
        if messages.close_code not in NORMAL_CLOSES:
            raise LogStreamBroken(f"log websocket closed with {messages.close_code}")

    async def usage(
        self, host_uri: str, token: str, dseq: str, gseq: int, oseq: int
    ) -> dict[str, Any] | None:
        """`{service: {cpuMillicores, memoryBytes, rxBytes, txBytes}}`, or None where the
        provider has no usage call (real Akash providers: see docs/decisions.md)."""
        url = f"{host_uri}/lease/{dseq}/{gseq}/{oseq}/usage"
        async with self._session.get(url, headers=_bearer(token)) as response:
            if response.status == 404:
                return None
            response.raise_for_status()
            body = await response.json()
            services: dict[str, Any] = body.get("services") or {}
            return services


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
