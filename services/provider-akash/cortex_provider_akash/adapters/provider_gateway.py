"""The Akash provider's own gateway: lease status and Kubernetes events (websocket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from runtime import codec


class LeaseGateway:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def kubeevents(
        self, host_uri: str, token: str, dseq: str, gseq: int, oseq: int
    ) -> AsyncIterator[dict[str, Any]]:
        """Every Kubernetes event of the lease so far, then new ones as they happen."""
        url = f"{host_uri}/lease/{dseq}/{gseq}/{oseq}/kubeevents?follow=true"
        headers = {"Authorization": f"Bearer {token}"}
        async with self._session.ws_connect(url, headers=headers, heartbeat=30) as ws:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    event = codec.loads(message.data)
                    if isinstance(event, dict):
                        yield event
                elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
