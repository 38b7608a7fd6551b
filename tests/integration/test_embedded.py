"""The embedded NATS and PostgreSQL servers: real processes that start, serve, restart and stop."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest

from embedded.nats import NatsServer
from embedded.ports import free_port
from embedded.postgres import PostgresServer
from embedded.process import ServerStartError


def gone(pid: int) -> bool:
    """No such process (a zombie counts: it has exited)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert 1024 < port < 65536


async def test_nats_jetstream_round_trip(nats_server: NatsServer) -> None:
    """`nats_server` is the shared fixture of tests/conftest.py, built on `NatsServer.start`."""
    assert nats_server.url == f"nats://127.0.0.1:{nats_server.port}"
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="T", subjects=["t.>"])
        ack = await js.publish("t.one", b"hello")
        message = await js.get_msg("T", ack.seq)
    finally:
        await nc.close()
    assert message.data == b"hello"
    assert (nats_server.data_dir / "jetstream").is_dir()


async def test_nats_stop_ends_the_process(tmp_path: Path) -> None:
    server = NatsServer.start(tmp_path / "nats", port=free_port())
    assert psutil.Process(server.pid).name() == "nats-server"
    server.stop()
    assert gone(server.pid)
    assert "Server Exiting" in (tmp_path / "nats" / "nats.log").read_text()


def test_nats_start_failure_says_why(tmp_path: Path, nats_server: NatsServer) -> None:
    with pytest.raises(ServerStartError, match="address already in use"):
        NatsServer.start(tmp_path / "second", port=nats_server.port, timeout=10)


async def test_postgres_query_restart_keeps_data_and_stop_ends_it(tmp_path: Path) -> None:
    server = PostgresServer.start(tmp_path, durable=False)
    assert server.dsn() == f"postgresql://postgres@127.0.0.1:{server.port}/cortex"
    db = await asyncpg.connect(server.dsn())
    await db.execute("CREATE TABLE kept (n int)")
    await db.execute("INSERT INTO kept VALUES (42)")
    await db.close()
    server.stop()
    assert gone(server.pid)

    again = PostgresServer.start(tmp_path, durable=False)
    try:
        assert again.pid != server.pid
        db = await asyncpg.connect(again.dsn())
        assert await db.fetchval("SELECT n FROM kept") == 42
        await db.close()
    finally:
        again.stop()
    assert gone(again.pid)


async def test_postgres_restarts_after_kill_9_with_connections_open(tmp_path: Path) -> None:
    server = PostgresServer.start(tmp_path)
    db = await asyncpg.connect(server.dsn())
    await db.execute("CREATE TABLE committed (n int)")
    await db.execute("INSERT INTO committed VALUES (7)")
    os.kill(server.pid, signal.SIGKILL)
    server.process.wait()
    assert (tmp_path / "pgdata" / "postmaster.pid").exists()  # stale, from the killed run

    again = PostgresServer.start(tmp_path)
    try:
        fresh = await asyncpg.connect(again.dsn())
        assert await fresh.fetchval("SELECT n FROM committed") == 7
        await fresh.close()
    finally:
        again.stop()
        db.terminate()
