"""`cortex up` as a newcomer runs it: plain HTTP against real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import nats
import psutil
import pytest

from contracts.signatures import verify
from cortex_cli.process import CortexProcess, start_cortex
from embedded.ports import free_port
from runtime import codec
from tests.integration.notifier.env import Receiver

JOBS = "/api/plugin-core/jobs"
TERMINAL = {"completed", "failed", "cancelled", "expired"}
SEED_JOB = {
    "provider": "akash",
    "image": "nginx:alpine",
    "cpu": 1000,
    "memory": "512Mi",
    "storage": "1Gi",
    "duration": 3600,
    "env": {"DEBUG": "true"},
    "ports": [{"port": 80, "expose": True}],
}


class Api:
    def __init__(self, cortex: CortexProcess, http: aiohttp.ClientSession) -> None:
        self.cortex, self.http = cortex, http

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.cortex.key}"}
        async with self.http.request(
            method, self.cortex.url + path, headers=headers, **kwargs
        ) as r:
            return r.status, await r.json(content_type=None)

    async def wait_for(
        self, job_id: str, statuses: set[str], timeout: float = 60
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                status, body = await self.call("GET", f"{JOBS}/{job_id}")
                if status == 200 and body["data"]["status"] in statuses:
                    job: dict[str, Any] = body["data"]
                    return job
                await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cortex")


@pytest.fixture(scope="module")
async def cortex(data_dir: Path) -> AsyncIterator[CortexProcess]:
    running = await start_cortex(data_dir, free_port())
    yield running
    await running.stop()


@pytest.fixture
async def api(cortex: CortexProcess) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(cortex, http)


async def test_ready_line_manifest_and_one_process_per_service(cortex: CortexProcess) -> None:
    assert f"Cortex ready at {cortex.url}" in cortex.output
    assert cortex.key.startswith("ctx_")
    manifest = cortex.manifest()
    assert manifest["apiUrl"] == cortex.url
    assert manifest["natsUrl"].startswith("nats://") and manifest["databaseUrl"].startswith(
        "postgresql://"
    )
    assert set(manifest["devnets"]) == {"akash", "render", "golem"}
    assert cortex.key not in (cortex.data_dir / "cortex.json").read_text()
    for name, pid in cortex.pids().items():
        assert name in " ".join(psutil.Process(pid).cmdline())


async def test_seed_walkthrough_create_get_list_cancel(api: Api) -> None:
    status, created = await api.call("POST", JOBS, json=SEED_JOB)
    assert status == 201 and created["data"]["status"] == "pending"
    job_id = created["data"]["id"]
    running = await api.wait_for(job_id, {"running"} | TERMINAL)
    assert running["status"] == "running", running
    assert [e["type"] for e in running["events"]] == ["created", "scheduled", "started"]
    status, listing = await api.call("GET", f"{JOBS}?status=running&provider=akash")
    assert job_id in [j["id"] for j in listing["data"]]
    status, cancel = await api.call("POST", f"{JOBS}/{job_id}/cancel")
    assert cancel == {"success": True, "data": {"id": job_id, "status": "cancelling"}}
    cancelled = await api.wait_for(job_id, {"cancelled"})
    assert cancelled["cost"]["final"] > 0

    status, created = await api.call(
        "POST",
        JOBS,
        json={**SEED_JOB, "image": "alpine:3.20", "ports": [], "command": ["sh", "-c", "exit 7"]},
    )
    failed = await api.wait_for(created["data"]["id"], TERMINAL)
    assert failed["status"] == "failed" and failed["results"]["exitCode"] == 7


async def test_a_killed_service_is_restarted(api: Api, cortex: CortexProcess) -> None:
    old = cortex.pids()["gateway"]
    os.kill(old, signal.SIGKILL)
    async with asyncio.timeout(30):
        while cortex.pids()["gateway"] == old:
            await asyncio.sleep(0.1)
        while True:
            try:
                async with api.http.get(cortex.url + "/healthz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    assert psutil.pid_exists(cortex.pids()["gateway"])


async def test_scheduler_kill_9_with_50_jobs_in_flight_loses_nothing(
    api: Api, cortex: CortexProcess
) -> None:
    spec = {**SEED_JOB, "image": "alpine:3.20", "ports": [], "cpu": 100, "memory": "32Mi"}
    ids = []
    for i in range(50):
        status, body = await api.call(
            "POST", JOBS, json={**spec, "command": ["sh", "-c", f"sleep {1 + i % 3}"]}
        )
        assert status == 201, body
        ids.append(body["data"]["id"])
    os.kill(cortex.pids()["scheduler"], signal.SIGKILL)  # every acknowledged create must survive

    async with asyncio.timeout(120):
        for job_id in ids:
            while True:
                status, body = await api.call("GET", f"{JOBS}/{job_id}")
                if status == 200 and body["data"]["status"] in TERMINAL:
                    break
                await asyncio.sleep(0.2)

    for job_id in ids:
        _, body = await api.call("GET", f"{JOBS}/{job_id}")
        job = body["data"]
        assert job["status"] == "completed", job
        kinds = [e["type"] for e in job["events"]]
        assert sum(kind in TERMINAL for kind in kinds) == 1, kinds

    # The public stream carries exactly one terminal event per job, whatever was re-sent.
    nc = await nats.connect(cortex.manifest()["natsUrl"])
    js = nc.jetstream()
    info = await js.stream_info("EVENTS")
    sub = await js.subscribe("cortex.events.>", ordered_consumer=True)  # job and provider events
    terminal: Counter[str] = Counter()
    for _ in range(info.state.messages):
        msg = await sub.next_msg(timeout=5)
        if not msg.subject.startswith("cortex.events.job."):
            continue
        _, _, _, job_id, kind = msg.subject.split(".")
        if kind in TERMINAL:
            terminal[job_id] += 1
    await nc.close()
    assert {job_id: terminal[job_id] for job_id in ids} == dict.fromkeys(ids, 1)


# What each devnet's `/control/state` lists while something is still open on it.
LEAK_KEYS = {
    "akash": ("deployments", "leases", "workloads"),
    "render": ("services", "jobs", "processes"),
    "golem": ("demands", "agreements", "activities", "processes", "allocations"),
}


async def leaks(api: Api, cortex: CortexProcess, network: str) -> dict[str, Any]:
    devnet = cortex.manifest()["devnets"][network]["url"]
    async with api.http.get(devnet + "/control/state") as r:
        state = await r.json()
    return {key: state[key] for key in LEAK_KEYS[network] if state[key]}


@pytest.mark.parametrize("network", sorted(LEAK_KEYS))
async def test_every_network_runs_a_job_end_to_end(
    api: Api, cortex: CortexProcess, network: str
) -> None:
    spec = {**SEED_JOB, "provider": network, "image": "alpine:3.20", "ports": []}
    status, body = await api.call(
        "POST", JOBS, json={**spec, "command": ["sh", "-c", "echo hi from $0; sleep 1.5"]}
    )
    assert status == 201, body
    job = await api.wait_for(body["data"]["id"], TERMINAL)
    assert job["status"] == "completed", job
    assert job["results"]["exitCode"] == 0 and job["cost"]["final"] > 0
    assert [e["type"] for e in job["events"]] == ["created", "scheduled", "started", "completed"]
    assert not await leaks(api, cortex, network)


@pytest.mark.parametrize("network", sorted(LEAK_KEYS))
async def test_provider_kill_9_mid_flight_leaves_no_job_behind_and_nothing_open(
    api: Api, cortex: CortexProcess, network: str
) -> None:
    spec = {**SEED_JOB, "provider": network, "image": "alpine:3.20", "ports": []}
    spec.update(cpu=100, memory="32Mi")
    ids = []
    for i in range(20):
        status, body = await api.call(
            "POST", JOBS, json={**spec, "command": ["sh", "-c", f"sleep {1 + i % 2}"]}
        )
        assert status == 201, body
        ids.append(body["data"]["id"])
    await asyncio.sleep(0.5)  # let some deployments get created, leased and started
    os.kill(cortex.pids()[f"provider-{network}"], signal.SIGKILL)

    async with asyncio.timeout(120):
        for job_id in ids:
            while True:
                status, body = await api.call("GET", f"{JOBS}/{job_id}")
                if status == 200 and body["data"]["status"] in TERMINAL:
                    break
                await asyncio.sleep(0.2)
    for job_id in ids:
        _, body = await api.call("GET", f"{JOBS}/{job_id}")
        assert body["data"]["status"] == "completed", (body["data"]["reason"], body["data"])
        assert sum(e["type"] in TERMINAL for e in body["data"]["events"]) == 1

    # Every deployment closed: the restarted service resumed each one from its persisted step.
    assert not await leaks(api, cortex, network)


async def test_a_real_jobs_completion_reaches_a_webhook(api: Api, cortex: CortexProcess) -> None:
    assert any("Webhooks may target loopback and private" in line for line in cortex.output)
    receiver = Receiver()
    await receiver.start()
    try:
        body = {"name": "e2e", "url": receiver.url("done"), "events": ["job.completed"]}
        status, created = await api.call("POST", "/api/plugin-core/webhooks", json=body)
        assert status == 201, created
        job = {**SEED_JOB, "image": "alpine:3.20", "command": ["sh", "-c", "echo ok"]}
        job.pop("ports")
        status, answer = await api.call("POST", JOBS, json=job)
        assert status == 201, answer
        await api.wait_for(answer["data"]["id"], TERMINAL)
        async with asyncio.timeout(30):
            while not receiver.hits("done"):
                await asyncio.sleep(0.1)
        [hit] = receiver.hits("done")
        verify(created["data"]["secret"], hit.headers, hit.body)
        assert codec.loads(hit.body)["data"]["job"]["id"] == answer["data"]["id"]
    finally:
        await receiver.stop()


async def test_sigterm_stops_everything_within_10_s_and_data_survives(
    data_dir: Path, cortex: CortexProcess
) -> None:
    processes = [psutil.Process(pid) for pid in cortex.pids().values()]
    started = time.monotonic()
    assert await cortex.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    _, alive = psutil.wait_procs(processes, timeout=1)
    assert not alive

    again = await start_cortex(data_dir, free_port())
    try:
        assert again.key == cortex.key  # the admin key of the first start
        async with aiohttp.ClientSession() as http:
            _, listing = await Api(again, http).call("GET", f"{JOBS}?limit=100")
        assert listing["meta"]["pagination"]["total"] >= 52
    finally:
        await again.stop()
