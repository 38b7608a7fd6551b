"""Provider adapters hold one stream per deployment in flight: more than aiohttp's default
cap of 100 connections must be open at once (the 101st job used to wait for another's end)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from cortex_provider_akash.adapters.provider_gateway import LeaseGateway
from embedded.ports import free_port
from provider_runtime.network import http_session

STREAMS = 130  # over aiohttp's default connector limit (100) and the default in flight (128)


async def _kubeevents(request: web.Request) -> web.WebSocketResponse:
    """One event, then the stream stays open like a running lease's."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.send_json({"reason": "Started", "note": request.match_info["dseq"]})
    while not ws.closed:  # until the client goes away
        await ws.receive()
    return ws


async def test_every_deployment_in_flight_gets_its_own_open_stream() -> None:
    app = web.Application()
    app.router.add_get("/lease/{dseq}/{gseq}/{oseq}/kubeevents", _kubeevents)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    streams: list[AsyncIterator[dict[str, Any]]] = []
    try:
        async with http_session() as session:
            gateway = LeaseGateway(session)
            host = f"http://127.0.0.1:{port}"
            streams = [gateway.kubeevents(host, "token", str(i), 1, 1) for i in range(STREAMS)]
            firsts = await asyncio.wait_for(
                asyncio.gather(*(anext(stream) for stream in streams)), timeout=20
            )
            assert sorted(int(event["note"]) for event in firsts) == list(range(STREAMS))
            for stream in streams:
                await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await runner.cleanup()
