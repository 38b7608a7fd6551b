"""What only Render does: plans, one-off job refusals, extension without a network call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from embedded.nats import NatsServer
from tests.integration.stack import Stack, start_stack, stop_stack

JOBS = "/api/plugin-core/jobs"
SPEC = {"provider": "render", "image": "alpine:3.20", "storage": "1Gi", "duration": 60}


@pytest.fixture
async def render(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    stack = await start_stack(nats_server.url, database_url, tmp_path, networks=("render",))
    yield stack
    await stop_stack(stack)


async def test_the_job_runs_on_the_smallest_fitting_plan_at_its_price(render: Stack) -> None:
    job = await render.submit(**SPEC, cpu=1000, memory="1Gi", command=["sleep", "0.3"])
    assert job["cost"]["projected"] == pytest.approx(25 / 730 * 60 / 3600, rel=1e-3)
    done = await render.wait_for(job["id"], {"completed", "failed"}, timeout=30)
    scheduled = next(e for e in done["events"] if e["type"] == "scheduled")
    assert scheduled["plan"] == "standard", scheduled
    assert done["status"] == "completed", done


async def test_a_job_without_a_command_fails_with_the_reason(render: Stack) -> None:
    job = await render.submit(**SPEC, cpu=250, memory="64Mi")
    done = await render.wait_for(job["id"], {"completed", "failed"}, timeout=30)
    assert done["status"] == "failed" and "command" in done["reason"], done
    assert "scheduled" not in [e["type"] for e in done["events"]]


async def test_a_running_job_is_extended_without_limit(render: Stack) -> None:
    job = await render.submit(**SPEC, cpu=250, memory="64Mi", command=["sleep", "30"])
    await render.wait_for(job["id"], {"running"}, timeout=30)
    status, _, body = await render.call(
        "POST", f"{JOBS}/{job['id']}/extend", json={"duration": 7200}
    )
    assert status == 200, body
    assert body["data"]["duration"] == 60 + 7200
    await render.call("POST", f"{JOBS}/{job['id']}/cancel")
    await render.wait_for(job["id"], {"cancelled"}, timeout=30)
    assert not await render.leaks("render")
