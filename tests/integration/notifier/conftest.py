from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from embedded.nats import NatsServer
from tests.integration.notifier.env import WebhookEnv, start_env, stop_env


@pytest.fixture
async def env(nats_server: NatsServer, database_url: str) -> AsyncIterator[WebhookEnv]:
    running = await start_env(nats_server.url, database_url)
    yield running
    await stop_env(running)
