"""The same job lifecycle and failure modes on every network, through its emulator.

Each test runs once per network in `STARTERS`; after each, nothing may be left open on the
network's devnet (no deployment, lease, service, job, agreement, activity or process).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from embedded.nats import NatsServer
from tests.integration.networks import STARTERS
from tests.integration.stack import Stack, start_stack, stop_stack, wait_until

NETWORKS = sorted(STARTERS)
SHORT = {"cpu": 250, "memory": "64Mi", "storage": "128Mi", "duration": 120}


@pytest.fixture(params=NETWORKS)
async def net(
    request: pytest.FixtureRequest, nats_server: NatsServer, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Stack, str]]:
    """A stack running one network; the test gets (stack, network name)."""
    stack = await start_stack(nats_server.url, database_url, tmp_path, networks=(request.param,))
    try:
        yield stack, request.param
        await assert_nothing_left(stack, request.param)
    finally:
        await stop_stack(stack)


async def assert_nothing_left(stack: Stack, network: str) -> None:
    await stack.control("DELETE", "/control/faults", network=network)
    leaks: dict[str, Any] = {}

    async def released() -> bool:
        nonlocal leaks
        leaks = await stack.leaks(network)
        return not leaks

    try:
        await wait_until(released, timeout=15)
    except TimeoutError:
        raise AssertionError(f"left open on {network}: {leaks}") from None


async def submit(stack: Stack, network: str, **spec: Any) -> dict[str, Any]:
    return await stack.submit(**{"provider": network, "image": "alpine:3.20", **SHORT, **spec})


def event_types(job: dict[str, Any]) -> list[str]:
    return [e["type"] for e in job["events"]]


def scheduled_details(job: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in job["events"] if e["type"] == "scheduled")


async def test_a_job_completes_with_its_exit_code_events_and_cost(net: tuple[Stack, str]) -> None:
    stack, network = net
    job = await submit(stack, network, command=["sh", "-c", "echo hello from $0; sleep 1.2"])
    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=60)
    assert done["status"] == "completed", done
    assert done["results"]["exitCode"] == 0
    assert event_types(done) == ["created", "scheduled", "started", "completed"]
    assert done["cost"]["final"] > 0, done["cost"]  # the network's real rate × real time
    assert done["cost"]["projected"] > 0
    assert done["startedAt"] <= done["endedAt"]


async def test_a_non_zero_exit_fails_with_the_exit_code(net: tuple[Stack, str]) -> None:
    stack, network = net
    job = await submit(stack, network, command=["sh", "-c", "echo failing >&2; exit 3"])
    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=60)
    assert done["status"] == "failed", done
    assert done["results"]["exitCode"] == 3
    assert "3" in done["reason"]


async def test_an_image_that_cannot_be_pulled_fails_with_the_reason(
    net: tuple[Stack, str],
) -> None:
    stack, network = net
    job = await submit(stack, network, image="registry.invalid/nothing:1", command=["true"])
    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=60)
    assert done["status"] == "failed", done
    assert "registry.invalid" in done["reason"] or "pull" in done["reason"].lower(), done


async def test_no_capacity_within_the_timeout_fails_with_a_reason(net: tuple[Stack, str]) -> None:
    stack, network = net
    await stack.control(
        "POST", "/control/faults", fault_body(stack, network, "no_capacity"), network
    )
    job = await submit(stack, network, command=["true"])
    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=60)
    assert done["status"] == "failed", done
    assert done["reason"] and "within" in done["reason"], done
    assert "started" not in event_types(done)


async def test_losing_the_resources_mid_run_fails_the_job(net: tuple[Stack, str]) -> None:
    stack, network = net
    job = await submit(stack, network, command=["sleep", "60"])
    running = await stack.wait_for(job["id"], {"running"}, timeout=60)
    lose = stack.networks[network].lose(scheduled_details(running))
    await stack.control("POST", lose, network=network)
    done = await stack.wait_for(job["id"], {"completed", "failed", "cancelled"}, timeout=60)
    assert done["status"] == "failed", done
    assert "lost" in done["reason"], done


async def test_api_errors_are_retried_without_a_second_deployment(net: tuple[Stack, str]) -> None:
    stack, network = net
    await stack.control(
        "POST", "/control/faults", fault_body(stack, network, "api_errors"), network
    )
    jobs = [await submit(stack, network, command=["sh", "-c", "sleep 0.5"]) for _ in range(3)]
    for job in jobs:
        done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=90)
        assert done["status"] == "completed", done
        assert stack.networks[network].created_for(job["id"]) == 1


async def test_cancel_while_pending_releases_everything(net: tuple[Stack, str]) -> None:
    stack, network = net
    await stack.control(
        "POST", "/control/faults", fault_body(stack, network, "no_capacity"), network
    )
    job = await submit(stack, network, command=["true"])
    await asyncio.sleep(0.5)  # let the provider service begin acquiring resources
    status, _, body = await stack.call("POST", f"/api/plugin-core/jobs/{job['id']}/cancel")
    assert status == 200, body
    done = await stack.wait_for(job["id"], {"cancelled", "failed"}, timeout=30)
    assert done["status"] == "cancelled", done


async def test_cancel_as_soon_as_scheduled_releases_everything(net: tuple[Stack, str]) -> None:
    stack, network = net
    job = await submit(stack, network, command=["sleep", "60"])
    seen = await stack.wait_for(job["id"], {"scheduled", "running"}, timeout=60)
    status, _, body = await stack.call("POST", f"/api/plugin-core/jobs/{job['id']}/cancel")
    assert status == 200, (seen["status"], body)
    done = await stack.wait_for(job["id"], {"cancelled"}, timeout=30)
    assert "scheduled" in event_types(done)


async def test_cancel_a_running_job_releases_everything(net: tuple[Stack, str]) -> None:
    stack, network = net
    job = await submit(stack, network, command=["sleep", "60"])
    await stack.wait_for(job["id"], {"running"}, timeout=60)
    await asyncio.sleep(1.5)  # accrue a visible cost (rounded to 6 decimals)
    status, _, body = await stack.call("POST", f"/api/plugin-core/jobs/{job['id']}/cancel")
    assert status == 200, body
    done = await stack.wait_for(job["id"], {"cancelled"}, timeout=30)
    assert done["cost"]["final"] > 0
    assert event_types(done)[-2:] == ["cancel_requested", "cancelled"]


@pytest.mark.parametrize("network", NETWORKS)
async def test_a_job_over_its_memory_limit_fails_out_of_memory(
    network: str, nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(
        nats_server.url, database_url, tmp_path, networks=(network,), enforce_memory_limit=True
    )
    try:
        hog = "x = bytearray(2 * 1024 * 1024 * 1024); print(len(x))"
        job = await submit(
            stack, network, image="python:3.11-slim", memory="256Mi", command=["python3", "-c", hog]
        )
        done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=60)
        assert done["status"] == "failed", done
        assert "out of memory" in done["reason"], done
        await assert_nothing_left(stack, network)
    finally:
        await stop_stack(stack)


def fault_body(stack: Stack, network: str, fault: str) -> dict[str, Any]:
    """The devnet's own body for a generic fault."""
    return stack.networks[network].faults[fault]
