"""The Render devnet over real HTTP: services, deploys, jobs as real processes, logs, metrics."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio

from devnets.render import RenderDevnet, RenderDevnetSettings, start_render_devnet
from tests.integration.devnets.helpers import alive, assert_cli_serves_and_stops, eventually

NAMES = itertools.count(1)
EXIT_LINE = "==> Exited with status {}"
BURN = f"{sys.executable} -c 'import time\nend = time.time() + 2\nwhile time.time() < end: pass'"


class Client:
    """REST calls as a Render adapter makes them."""

    def __init__(self, session: aiohttp.ClientSession, devnet: RenderDevnet) -> None:
        self.session = session
        self.url = devnet.url
        self.headers = {"Authorization": f"Bearer {devnet.api_key}"}
        self.owner = ""

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(
            method, self.url + path, json=body, headers=self.headers
        ) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = await self.call(method, path, body)
        assert 200 <= status < 300, (status, payload)
        return payload

    async def service(self, image: str = "alpine:3.20", **env: str) -> tuple[str, str]:
        if not self.owner:
            self.owner = (await self.ok("GET", "/owners"))[0]["owner"]["id"]
        body = {
            "type": "background_worker",
            "name": f"base-{next(NAMES)}",
            "ownerId": self.owner,
            "image": {"ownerId": self.owner, "imagePath": image},
            "envVars": [{"key": k, "value": v} for k, v in env.items()],
            "serviceDetails": {"runtime": "image", "plan": "starter", "region": "oregon"},
        }
        created = await self.ok("POST", "/services", body)
        return created["service"]["id"], created["deployId"]

    async def live_service(self, **env: str) -> str:
        service_id, deploy_id = await self.service(**env)
        assert await self.deploy_status(service_id, deploy_id) == "live"
        return service_id

    async def deploy_status(self, service_id: str, deploy_id: str) -> str:
        async def settled() -> str | None:
            deploy = await self.ok("GET", f"/services/{service_id}/deploys/{deploy_id}")
            status: str = deploy["status"]
            return status if status in ("live", "build_failed") else None

        return str(await eventually(settled))

    async def job(self, service_id: str, command: str, **extra: Any) -> dict[str, Any]:
        body = {"startCommand": command, **extra}
        return dict(await self.ok("POST", f"/services/{service_id}/jobs", body))

    async def job_in(self, job: dict[str, Any], *statuses: str) -> dict[str, Any]:
        path = f"/services/{job['serviceId']}/jobs/{job['id']}"

        async def reached() -> dict[str, Any] | None:
            current = await self.ok("GET", path)
            return current if current["status"] in statuses else None

        return dict(await eventually(reached))

    async def logs(self, **query: Any) -> dict[str, Any]:
        return dict(await self.ok("GET", "/logs?" + urlencode({"ownerId": self.owner, **query})))

    async def messages(self, resource: str) -> list[str]:
        page = await self.logs(resource=resource, direction="forward", limit=100)
        return [entry["message"] for entry in page["logs"]]

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self.url + path, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()


@pytest_asyncio.fixture(scope="module")
async def devnet() -> AsyncIterator[RenderDevnet]:
    settings = RenderDevnetSettings(
        zero_delay=True, stop_grace_seconds=1, metrics_interval_seconds=0.2
    )
    net = await start_render_devnet(settings)
    yield net
    await net.stop()


@pytest_asyncio.fixture
async def client(devnet: RenderDevnet) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, devnet)
        async with session.delete(devnet.url + "/control/faults"):
            pass


async def test_failed_job_reports_output_and_exit_status(client: Client) -> None:
    service_id = await client.live_service()
    job = await client.job(service_id, "echo hi; echo oops >&2; exit 3")
    assert job["id"].startswith("job-") and job["status"] == "pending"
    assert (job["serviceId"], job["planId"]) == (service_id, "starter")

    done = await client.job_in(job, "succeeded", "failed")
    assert done["status"] == "failed"
    assert done["startedAt"] <= done["finishedAt"]
    assert await client.messages(job["id"]) == ["hi", "oops", EXIT_LINE.format(3)]

    page = await client.logs(resource=job["id"], direction="forward")
    labels = {label["name"]: label["value"] for label in page["logs"][1]["labels"]}
    assert labels == {"resource": job["id"], "instance": job["id"], "level": "error", "type": "app"}
    assert await client.logs(resource=job["id"], level="error", text="oops")

    query = urlencode({"ownerId": client.owner, "resource": job["id"], "startTime": 0})
    streamed: list[str] = []
    async with (
        client.session.ws_connect(
            f"{client.url}/logs/subscribe?{query}", headers=client.headers
        ) as ws,
        asyncio.timeout(10),
    ):
        async for message in ws:
            streamed.append(json.loads(message.data)["message"])
            if streamed[-1].startswith("==> Exited"):
                break
    assert streamed == ["hi", "oops", EXIT_LINE.format(3)]
    await client.ok("DELETE", f"/services/{service_id}")


async def test_succeeded_job_sees_env_vars_and_is_billed_at_its_plan(client: Client) -> None:
    service_id = await client.live_service(GREETING="hello world")
    job = await client.job(service_id, 'echo "$GREETING from $RENDER_SERVICE_ID"', planId="pro")
    done = await client.job_in(job, "succeeded", "failed")
    assert done["status"] == "succeeded"
    assert done["planId"] == "pro"
    assert await client.messages(job["id"]) == [
        f"hello world from {service_id}",
        EXIT_LINE.format(0),
    ]
    billing = done["billing"]
    assert billing["usdPerMonth"] == 85.0
    assert billing["usdPerSecond"] == pytest.approx(85.0 / 730 / 3600)
    assert billing["billedSeconds"] == 1  # whole seconds, a started one counts
    assert billing["costUsd"] == pytest.approx(85 / 730 / 3600)

    listed = await client.ok("GET", f"/services/{service_id}/jobs?status=succeeded&limit=1")
    assert [item["job"]["id"] for item in listed] == [job["id"]]
    assert listed[0]["cursor"]
    assert await client.ok("GET", f"/services/{service_id}/jobs?status=running") == []
    await client.ok("DELETE", f"/services/{service_id}")


async def test_an_ended_job_keeps_its_record_and_logs_but_not_its_instance(
    client: Client, devnet: RenderDevnet
) -> None:
    """A long-running devnet does not grow with every job: the instance's files and the
    process's own copy of its output go, and the usage sampler stops reading it; the job and
    its lines stay readable."""
    service_id = await client.live_service()
    job = await client.job(service_id, "echo kept > out.txt; cat out.txt")
    run = devnet.platform.runs[job["id"]]
    await asyncio.wait_for(run.done.wait(), 10)

    assert (await client.job_in(job, "succeeded", "failed"))["status"] == "succeeded"
    assert await client.messages(job["id"]) == ["kept", EXIT_LINE.format(0)]
    assert run.workload is None
    assert not (devnet.platform.work_dir / job["id"]).exists()
    await asyncio.sleep(0.5)  # two sampler rounds (0.2 s apart in these tests)
    assert job["id"] not in devnet.platform._live and job["id"] in devnet.platform.runs
    await client.ok("DELETE", f"/services/{service_id}")


async def test_logs_page_by_time_window(client: Client) -> None:
    service_id = await client.live_service()
    job = await client.job(service_id, "for i in 1 2 3 4 5; do echo line-$i; done")
    await client.job_in(job, "succeeded")
    seen: list[str] = []
    query: dict[str, Any] = {"resource": job["id"], "direction": "forward", "limit": 2}
    for _ in range(10):
        page = await client.logs(**query)
        seen += [entry["message"] for entry in page["logs"]]
        if not page["hasMore"]:
            break
        query |= {"startTime": page["nextStartTime"], "endTime": page["nextEndTime"]}
    assert seen == [f"line-{i}" for i in range(1, 6)] + [EXIT_LINE.format(0)]

    newest = await client.logs(resource=job["id"], direction="backward", limit=2)
    assert [e["message"] for e in newest["logs"]] == [EXIT_LINE.format(0), "line-5"]
    older = await client.logs(
        resource=job["id"], limit=2, endTime=newest["nextEndTime"], startTime=0
    )
    assert [e["message"] for e in older["logs"]] == ["line-4", "line-3"]
    build = await client.messages(service_id)
    assert "==> Your service is live 🎉" in build
    await client.ok("DELETE", f"/services/{service_id}")


@pytest.mark.parametrize("image", ["example.org/team/unknown:1.0", "registry.invalid/x:1"])
async def test_unpullable_image_fails_the_build(client: Client, image: str) -> None:
    service_id, deploy_id = await client.service(image=image)
    assert await client.deploy_status(service_id, deploy_id) == "build_failed"
    assert any("Failed to pull image" in m for m in await client.messages(service_id))
    status, error = await client.call(
        "POST", f"/services/{service_id}/jobs", {"startCommand": "true"}
    )
    assert status == 400 and set(error) == {"id", "message"}
    await client.ok("DELETE", f"/services/{service_id}")


async def test_cancel_stops_the_process(client: Client) -> None:
    service_id = await client.live_service()
    job = await client.job(service_id, "sleep 30")
    await client.job_in(job, "running")
    state = await client.control("GET", "/control/state")
    pid = next(p["pid"] for p in state["processes"] if p["jobId"] == job["id"])
    assert alive(pid)
    canceled = await client.ok("POST", f"/services/{service_id}/jobs/{job['id']}/cancel")
    assert canceled["status"] == "canceled"
    assert not alive(pid)
    assert (await client.messages(job["id"]))[-2:] == ["==> Job canceled", EXIT_LINE.format(143)]
    status, _ = await client.call("POST", f"/services/{service_id}/jobs/{job['id']}/cancel")
    assert status == 409
    await client.ok("DELETE", f"/services/{service_id}")


async def test_instance_lost_mid_run_fails_the_job(client: Client) -> None:
    service_id = await client.live_service()
    job = await client.job(service_id, "sleep 30")
    await client.job_in(job, "running")
    killed = await client.control("POST", f"/control/jobs/{job['id']}/kill")
    assert killed["status"] == "failed"
    assert (await client.messages(job["id"]))[-1] == EXIT_LINE.format(137)
    await client.ok("DELETE", f"/services/{service_id}")


async def test_api_faults(client: Client) -> None:
    await client.control("POST", "/control/faults", {"offline": True})
    status, error = await client.call("GET", "/owners")
    assert status == 503 and set(error) == {"id", "message"}
    await client.control("POST", "/control/faults", {"offline": False, "apiErrorRate": 1})
    assert (await client.call("GET", "/owners"))[0] == 500
    await client.control("POST", "/control/faults", {"apiErrorRate": 0, "rateLimitRate": 1})
    async with client.session.get(client.url + "/owners", headers=client.headers) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "1"
    await client.control("DELETE", "/control/faults")
    assert (await client.call("GET", "/owners"))[0] == 200


async def test_capacity_and_deploy_faults(client: Client) -> None:
    service_id = await client.live_service()
    await client.control("POST", "/control/faults", {"noCapacity": True, "failDeploys": True})
    job = await client.job(service_id, "echo late")
    await asyncio.sleep(0.3)  # no instance: the job must still be waiting
    assert (await client.job_in(job, "pending"))["startedAt"] is None
    deploy = await client.ok("POST", f"/services/{service_id}/deploys", {})
    assert await client.deploy_status(service_id, deploy["id"]) == "build_failed"
    await client.control("POST", "/control/faults", {"noCapacity": False})
    assert (await client.job_in(job, "succeeded", "failed"))["status"] == "succeeded"
    await client.ok("DELETE", f"/services/{service_id}")


async def test_suspended_service_still_runs_jobs_and_delete_stops_them(client: Client) -> None:
    service_id = await client.live_service()
    await client.ok("POST", f"/services/{service_id}/suspend")
    assert (await client.ok("GET", f"/services/{service_id}"))["suspended"] == "suspended"
    job = await client.job(service_id, "sleep 30")
    await client.job_in(job, "running")
    await client.ok("POST", f"/services/{service_id}/resume")
    assert (await client.ok("GET", f"/services/{service_id}"))["suspended"] == "not_suspended"
    await client.ok("DELETE", f"/services/{service_id}")
    assert (await client.call("GET", f"/services/{service_id}"))[0] == 404
    assert (await client.control("GET", "/control/state"))["processes"] == []


async def test_auth_errors(client: Client, devnet: RenderDevnet) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": devnet.api_key}):
        async with client.session.get(devnet.url + "/owners", headers=headers) as response:
            assert response.status == 401
            assert set(await response.json()) == {"id", "message"}


async def test_cpu_burning_job_shows_about_one_core(client: Client) -> None:
    service_id = await client.live_service()
    job = await client.job(service_id, BURN)
    done = await client.job_in(job, "succeeded", "failed")
    assert done["status"] == "succeeded"
    query = urlencode(
        {"resource": job["id"], "startTime": job["createdAt"], "resolutionSeconds": 1}
    )
    cpu = await client.ok("GET", f"/metrics/cpu?{query}")
    assert len(cpu) == 1 and cpu[0]["unit"] == "cpu"
    assert {"field": "instance", "value": job["id"]} in cpu[0]["labels"]
    values = [point["value"] for point in cpu[0]["values"]]
    assert len(values) >= 1 and 0.5 < max(values) < 1.6, values
    memory = await client.ok("GET", f"/metrics/memory?{query}")
    assert memory[0]["unit"] == "bytes" and memory[0]["values"][0]["value"] > 1_000_000
    by_service = await client.ok(
        "GET", "/metrics/cpu-limit?" + urlencode({"resource": service_id, "startTime": 0})
    )
    assert by_service[0]["values"][0]["value"] == 0.5  # starter
    await client.ok("DELETE", f"/services/{service_id}")


async def test_nothing_left_running(client: Client) -> None:
    state = await client.control("GET", "/control/state")
    assert (state["services"], state["jobs"], state["processes"]) == ([], [], [])
    assert state["billing"]["costUsd"] > 0


async def test_command_line_entry_point_serves_and_stops_cleanly(tmp_path: Any) -> None:
    await assert_cli_serves_and_stops(
        "render", "--api-key", "/owners", {"Authorization": "Bearer k1"}, tmp_path
    )
