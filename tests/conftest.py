"""Real servers for every test that needs them: PostgreSQL and NATS started from the wheels."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from embedded.nats import NatsServer
from embedded.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer.start(tmp_path_factory.mktemp("postgres"), durable=False)
    yield server
    server.stop()


@pytest.fixture
async def database_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    name = f"t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_server.dsn("postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield postgres_server.dsn(name)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh NATS (JetStream) server for one test: streams never leak between tests."""
    server = NatsServer.start(tmp_path / "nats")
    yield server
    server.stop()
