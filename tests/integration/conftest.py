from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from embedded.nats import NatsServer
from tests.integration.stack import Stack, start_stack, stop_stack


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_server.url, database_url, tmp_path)
    yield running
    await stop_stack(running)
