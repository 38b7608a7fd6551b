"""`cortex up` and `cortex run` as processes, with a fake service instead of the real ones."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import nats
import psutil
import pytest

from embedded.ports import free_port
from tests.e2e.cortex_process import CortexProcess, fake_only_env, run_cortex_up

MANIFEST_KEYS = {"apiUrl", "natsUrl", "databaseUrl", "services", "devnets"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cortex-cli")


@pytest.fixture(scope="module")
async def cortex(data_dir: Path) -> AsyncIterator[CortexProcess]:
    env = fake_only_env(CORTEX_WEBHOOK_RETRY_SCALE="0.01")
    running = await run_cortex_up(data_dir, free_port(), env)
    yield running
    await running.stop()


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json(content_type=None)


async def wait_healthy(url: str, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while True:
            try:
                if (await get_json(url + "/healthz"))[0] == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


async def test_ready_line_key_and_manifest(cortex: CortexProcess) -> None:
    assert f"Cortex ready at {cortex.url}" in cortex.output
    assert f"API key: {cortex.key}" in cortex.output
    assert cortex.key.startswith("ctx_") and len(cortex.key) == 4 + 32
    manifest = cortex.manifest()
    assert set(manifest) == MANIFEST_KEYS
    assert manifest["apiUrl"] == cortex.url
    assert manifest["natsUrl"].startswith("nats://127.0.0.1:")
    assert manifest["databaseUrl"].startswith("postgresql://postgres@127.0.0.1:")
    assert manifest["databaseUrl"].endswith("/cortex")
    assert set(manifest["services"]) == {"fake"} and manifest["devnets"] == {}
    assert cortex.key not in (cortex.data_dir / "cortex.json").read_text()
    key_file = cortex.data_dir / "admin-key"
    assert key_file.read_text().strip() == cortex.key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_each_service_is_a_child_process_named_on_its_command_line(
    cortex: CortexProcess,
) -> None:
    for name, pid in cortex.pids().items():
        process = psutil.Process(pid)
        assert process.ppid() == cortex.process.pid
        assert process.cmdline()[-2:] == ["run", name]


async def test_services_get_the_stack_settings_and_the_callers_cortex_variables(
    cortex: CortexProcess,
) -> None:
    status, env = await get_json(cortex.url + "/env")
    manifest = cortex.manifest()
    assert status == 200
    assert env["CORTEX_NATS_URL"] == manifest["natsUrl"]
    assert env["CORTEX_DATABASE_URL"] == manifest["databaseUrl"]
    assert env["CORTEX_HTTP_PORT"] == str(cortex.port)
    assert int(env["CORTEX_METRICS_PORT"]) not in (0, cortex.port)
    assert env["CORTEX_SERVICE_NAME"] == "fake"
    assert env["CORTEX_BOOTSTRAP_API_KEY"] == cortex.key
    assert env["CORTEX_DATA_DIR"] == str(cortex.data_dir)
    assert env["CORTEX_WEBHOOK_RETRY_SCALE"] == "0.01"


async def test_nats_and_postgres_are_real_and_reachable(cortex: CortexProcess) -> None:
    manifest = cortex.manifest()
    nc = await nats.connect(manifest["natsUrl"])
    account = await nc.jetstream().account_info()  # JetStream is on
    await nc.close()
    assert account.limits is not None
    db = await asyncpg.connect(manifest["databaseUrl"])
    await db.execute("CREATE TABLE IF NOT EXISTS survives (note text)")
    await db.execute("INSERT INTO survives VALUES ('written before the restart')")
    await db.close()


async def test_a_killed_service_is_restarted_with_a_new_pid(cortex: CortexProcess) -> None:
    old = cortex.pids()["fake"]
    os.kill(old, signal.SIGKILL)
    async with asyncio.timeout(30):
        while cortex.pids()["fake"] == old:
            await asyncio.sleep(0.1)
    new = cortex.pids()["fake"]
    assert psutil.Process(new).cmdline()[-2:] == ["run", "fake"]
    await wait_healthy(cortex.url)
    assert any(line.startswith("cortex: fake exited with -9") for line in cortex.output)


async def test_sigterm_stops_everything_within_10_s(cortex: CortexProcess) -> None:
    started_by_up = descendants(cortex.process.pid)
    names = {p.name() for p in started_by_up}
    assert {"nats-server", "postgres"} <= names, names
    assert cortex.pids()["fake"] in {p.pid for p in started_by_up}
    started = time.monotonic()
    assert await cortex.stop(signal.SIGTERM, timeout=10) == 0
    assert time.monotonic() - started < 10
    _, alive = psutil.wait_procs(started_by_up, timeout=1)
    assert alive == []
    assert "cortex: stopped" in cortex.output


async def test_a_second_up_reuses_the_admin_key_and_the_database(
    data_dir: Path, cortex: CortexProcess
) -> None:
    assert cortex.process.returncode is not None, "runs after the stop test"
    again = await run_cortex_up(data_dir, free_port(), fake_only_env())
    try:
        assert again.key == cortex.key
        db = await asyncpg.connect(again.manifest()["databaseUrl"])
        notes = await db.fetchval("SELECT note FROM survives")
        await db.close()
        assert notes == "written before the restart"
    finally:
        assert await again.stop() == 0


async def test_given_api_key_wins_and_is_kept(tmp_path: Path) -> None:
    env = fake_only_env()
    first = await run_cortex_up(tmp_path, free_port(), env, api_key="ctx_given")
    await first.stop()
    assert first.key == "ctx_given"
    second = await run_cortex_up(tmp_path, free_port(), env)
    await second.stop()
    assert second.key == "ctx_given"


async def test_a_service_that_never_gets_healthy_fails_up_and_names_it(tmp_path: Path) -> None:
    env = fake_only_env(CORTEX_FAKE_CRASH="1", CORTEX_UP_READY_TIMEOUT="3")
    command = [sys.executable, "-m", "cortex_cli", "up", "--data-dir", str(tmp_path)]
    process = await asyncio.create_subprocess_exec(
        *command, "--port", str(free_port()),
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    stderr = err.decode()
    assert process.returncode == 1, stderr
    assert "did not answer 200" in stderr
    assert "fake:" in stderr and "CORTEX_FAKE_CRASH" in stderr
    assert "Cortex ready" not in out.decode()
    assert "cortex: stopped" in out.decode()


async def test_the_akash_devnet_is_started_and_handed_to_services(tmp_path: Path) -> None:
    env = {**fake_only_env(), "CORTEX_DEVNETS": "akash"}
    cortex = await run_cortex_up(tmp_path, free_port(), env)
    try:
        devnet_url = cortex.manifest()["devnets"]["akash"]["url"]
        _, service_env = await get_json(cortex.url + "/env")
        assert service_env["CORTEX_AKASH_API_URL"] == devnet_url
        assert service_env["CORTEX_AKASH_API_KEY"] not in ("", None)
        log = (tmp_path / "logs" / "devnet-akash.log").read_text()
        assert f"akash devnet listening on {devnet_url}" in log
    finally:
        assert await cortex.stop() == 0


def test_cortex_run_refuses_an_unknown_service() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cortex_cli", "run", "no-such-service"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "unknown service 'no-such-service'" in result.stderr
