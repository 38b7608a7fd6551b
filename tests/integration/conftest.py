from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from embedded.nats import NatsServer
from runtime.messaging import connect, ensure_streams
from tests.integration.stack import Stack, start_stack, stop_stack


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_server.url, database_url, tmp_path)
    yield running
    await stop_stack(running)


@pytest.fixture
async def nats_client(nats_server: NatsServer) -> AsyncIterator[NATS]:
    """A connection to a fresh NATS server whose streams exist, as every service makes them."""
    nc = await connect(nats_server.url, "test")
    await ensure_streams(nc.jetstream())
    yield nc
    await nc.close()
