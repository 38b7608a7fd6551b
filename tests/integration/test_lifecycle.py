"""A job's whole life on the emulated Akash network, through the HTTP API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cortex_provider_akash.bootstrap import build as build_akash
from embedded.nats import NatsServer
from tests.integration.stack import JOBS, Stack, start_stack, stop_stack, wait_until


async def assert_nothing_open(stack: Stack) -> None:
    """No deployment, lease or workload left on the network."""

    async def released() -> bool:
        state = await stack.devnet_state()
        return not state["deployments"] and not state["leases"] and not state["workloads"]

    try:
        await wait_until(released, timeout=10)
    except TimeoutError:
        raise AssertionError(f"left open on the devnet: {await stack.devnet_state()}") from None


async def test_job_completes_with_its_real_exit_code_events_and_cost(stack: Stack) -> None:
    job = await stack.submit(command=["sh", "-c", "echo hello; sleep 0.3"])
    assert job["status"] == "pending"
    assert job["cost"]["projected"] > 0 and job["cost"]["current"] == 0
    # Durably recorded before the answer: a GET right away finds it.
    assert (await stack.job(job["id"]))["id"] == job["id"]

    done = await stack.wait_for(job["id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    assert done["results"] == {"exitCode": 0, "outputUrl": f"{JOBS}/{job['id']}/output"}
    assert [e["type"] for e in done["events"]] == ["created", "scheduled", "started", "completed"]
    assert done["startedAt"] and done["endedAt"] and done["endedAt"].endswith("Z")
    assert done["cost"]["final"] == done["cost"]["current"] > 0
    await assert_nothing_open(stack)


async def test_unknown_image_without_command_fails_like_an_unpullable_image(stack: Stack) -> None:
    job = await stack.submit(image="example.com/private/app:2")
    done = await stack.wait_for(job["id"], {"completed", "failed"})
    assert done["status"] == "failed" and "pull" in done["reason"].lower()


async def test_job_past_its_duration_expires_and_is_stopped(stack: Stack) -> None:
    job = await stack.submit(command=["sleep", "30"], duration=1)
    done = await stack.wait_for(job["id"], {"expired", "completed", "failed"}, timeout=20)
    assert done["status"] == "expired"
    assert "duration" in done["reason"]
    await assert_nothing_open(stack)


@pytest.mark.parametrize("image", ["nginx:alpine"])
async def test_well_known_image_runs_until_cancelled(stack: Stack, image: str) -> None:
    job = await stack.submit(image=image, ports=[{"port": 80, "expose": True}])
    running = await stack.wait_for(job["id"], {"running", "failed"})
    assert running["status"] == "running", running
    await stack.call("POST", f"{JOBS}/{job['id']}/cancel")
    await stack.wait_for(job["id"], {"cancelled"})
    await assert_nothing_open(stack)


async def test_env_and_args_reach_the_workload(stack: Stack) -> None:
    script = 'test "$GREETING" = "hello world" && test "$1" = two'
    ok = await stack.submit(
        env={"GREETING": "hello world"}, command=["sh", "-c", script, "one", "two"]
    )
    wrong = await stack.submit(env={"GREETING": "bye"}, command=["sh", "-c", script, "one", "two"])
    assert (await stack.wait_for(ok["id"], {"completed", "failed"}))["status"] == "completed"
    assert (await stack.wait_for(wrong["id"], {"completed", "failed"}))["results"]["exitCode"] == 1


async def test_cost_thresholds_are_announced_while_a_job_runs(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(
        nats_server.url, database_url, tmp_path, cost_thresholds="0.05,0.1", cost_check_interval=0.1
    )
    try:
        job = await stack.submit(command=["sleep", "30"], duration=4)
        done = await stack.wait_for(job["id"], {"expired", "failed", "completed"}, timeout=20)
        alerts = [e for e in done["events"] if e["type"] == "cost.threshold"]
        assert [a["threshold"] for a in alerts] == [0.05, 0.1], done["events"]
        assert all(a["costCurrent"] >= a["threshold"] * a["costProjected"] for a in alerts)
    finally:
        await stop_stack(stack)


async def test_a_create_whose_answer_is_lost_never_makes_a_second_deployment(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(nats_server.url, database_url, tmp_path)
    try:
        # Every Console call takes effect but answers 504: the create looks failed, yet made one.
        await stack.control("POST", "/control/faults", {"loseAnswerRate": 1.0})
        job = await stack.submit(command=["sleep", "0.5"])

        async def deployed() -> bool:
            return bool((await stack.devnet_state())["deployments"])

        await wait_until(deployed, timeout=10)
        await stack.control("DELETE", "/control/faults")
        done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=30)
        assert done["status"] == "completed", done

        headers = {"x-api-key": stack.devnet.api_key}
        async with stack.http.get(
            stack.devnet.url + "/v1/deployments?skip=0&limit=100", headers=headers
        ) as r:
            listing = (await r.json())["data"]["deployments"]
        named = [d for d in listing if d["deployment"].get("name") == job["id"]]
        assert len(named) == 1, listing
        await assert_nothing_open(stack)
    finally:
        await stop_stack(stack)


async def test_a_restart_while_bidding_finds_the_deployment_instead_of_making_another(
    stack: Stack,
) -> None:
    # Bids come a second after the deployment: by then the first service has stopped.
    await stack.control("POST", "/control/faults", {"bidDelaySeconds": 1.0})
    job = await stack.submit(command=["sh", "-c", "sleep 0.3"])

    async def deployed() -> bool:
        return bool((await stack.devnet_state())["deployments"])

    await wait_until(deployed, timeout=10)
    # The dseq is first saved with the placement: until then the record says `creating`.
    saved = await stack.akash.store.get(job["id"])
    assert saved is not None and saved.handle.get("creating") is True, saved
    assert saved.handle.get("dseq") is None, saved
    # The service stops while its deploy waits for bids (as a crash would, at an await).
    akash = stack.networks["akash"]
    await akash.service.stop()
    akash.service = build_akash(akash.service.settings)
    await akash.service.start()

    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=30)
    assert done["status"] == "completed", (done["reason"], done["events"])
    assert akash.created_for(job["id"]) == 1
    await assert_nothing_open(stack)


async def test_extend_a_running_job_within_the_akash_runtime_limit(stack: Stack) -> None:
    job = await stack.submit(command=["sleep", "30"], duration=2)
    await stack.wait_for(job["id"], {"running"})
    status, _, body = await stack.call("POST", f"{JOBS}/{job['id']}/extend", json={"duration": 600})
    assert status == 200, body
    assert body["data"]["duration"] == 602
    detail = await stack.job(job["id"])
    assert next(e for e in detail["events"] if e["type"] == "extended")["duration"] == 602

    # Past its original 2 s it keeps running: the deadline moved.
    await asyncio.sleep(2.5)  # the old deadline (2 s after start) has passed
    assert (await stack.job(job["id"]))["status"] == "running"

    # Past the deployment's 1 h runtime limit Akash cannot go: 409 with the reason.
    status, _, body = await stack.call(
        "POST", f"{JOBS}/{job['id']}/extend", json={"duration": 4000}
    )
    assert status == 409 and body["error"]["code"] == "PROVIDER_CONFLICT"
    assert "runtime limit" in body["error"]["message"]
    assert (await stack.job(job["id"]))["duration"] == 602
    await stack.call("POST", f"{JOBS}/{job['id']}/cancel")
    await stack.wait_for(job["id"], {"cancelled"})

    status, _, body = await stack.call("POST", f"{JOBS}/{job['id']}/extend", json={"duration": 10})
    assert status == 409 and body["error"]["code"] == "JOB_NOT_RUNNING"
    for bad in ({"duration": 0}, {"duration": "10"}, {"minutes": 5}):
        status, _, body = await stack.call("POST", f"{JOBS}/{job['id']}/extend", json=bad)
        assert status == 400, bad
