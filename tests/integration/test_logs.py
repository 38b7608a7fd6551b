"""Logs, live follow (SSE), output download and metrics, read from real workloads on each
network that implements the Telemetry protocol.

Parametrized over TELEMETRY_NETWORKS, an explicit list (not STARTERS): a network added to
STARTERS without Telemetry is not silently skipped here, and adding it to this list makes
these tests fail until it reads logs and usage.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from embedded.nats import NatsServer
from tests.integration.stack import JOBS, Stack, start_stack, stop_stack, wait_until

TELEMETRY_NETWORKS = ["akash", "render", "golem"]
# Golem reports no memory use of an activity (its usage counters are CPU and wall time).
MEMORY_MEASURED = {"akash", "render"}
SPEC = {"cpu": 1000, "memory": "512Mi", "storage": "128Mi", "duration": 300}


def py(program: str) -> dict[str, Any]:
    """A job running a Python one-liner (the devnets map python images to the host's)."""
    return {"image": "python:3.11-slim", "command": ["python3", "-c", program]}


@pytest.fixture(params=TELEMETRY_NETWORKS)
async def net(
    request: pytest.FixtureRequest, nats_server: NatsServer, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Stack, str]]:
    stack = await start_stack(
        nats_server.url,
        database_url,
        tmp_path,
        networks=(request.param,),
        metrics_interval=0.5,
        sse_heartbeat=0.3,
        log_retention_lines=500,
    )
    try:
        yield stack, request.param
    finally:
        await stop_stack(stack)


async def submit(stack: Stack, network: str, program: str) -> str:
    job = await stack.submit(**{"provider": network, **SPEC, **py(program)})
    return str(job["id"])


async def logs(stack: Stack, job_id: str, query: str = "") -> list[dict[str, Any]]:
    status, _, body = await stack.call("GET", f"{JOBS}/{job_id}/logs{query}")
    assert status == 200, body
    lines: list[dict[str, Any]] = body["data"]["logs"]
    return lines


def app_lines(lines: list[dict[str, Any]]) -> list[str]:
    """The workload's own lines (not the network's `system` lines)."""
    return [line["line"] for line in lines if line["stream"] != "system"]


class Sse:
    """A minimal SSE reader: (id, event, data) per event; comments counted."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response, self.comments = response, 0

    async def events(self) -> AsyncIterator[tuple[int | None, str, dict[str, Any]]]:
        fields: dict[str, str] = {}
        async for raw in self.response.content:
            line = raw.decode().rstrip("\n")
            if not line:
                if "data" in fields:
                    seq = int(fields["id"]) if "id" in fields else None
                    yield seq, fields.get("event", "message"), json.loads(fields["data"])
                fields = {}
            elif line.startswith(":"):
                self.comments += 1
            else:
                name, _, value = line.partition(": ")
                fields[name] = value


async def follow(
    stack: Stack, job_id: str, query: str = "", last_id: int | None = None
) -> aiohttp.ClientResponse:
    headers = stack.auth()
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    url = f"{stack.base_url}{JOBS}/{job_id}/logs?follow=true{query}"
    response = await stack.http.get(url, headers=headers, timeout=aiohttp.ClientTimeout(60))
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return response


async def test_tail_since_both_and_output_download(net: tuple[Stack, str]) -> None:
    stack, network = net
    program = (
        "import sys,time\n"
        "for i in range(60):\n"
        " print(f'line {i}', flush=True)\n"
        " if i % 7 == 0: print(f'warn {i}', file=sys.stderr, flush=True)\n"
        " time.sleep(0.01)"
    )
    job_id = await submit(stack, network, program)
    done = await stack.wait_for(job_id, {"completed", "failed"}, timeout=60)
    assert done["status"] == "completed", done
    every = await logs(stack, job_id)
    assert [r["seq"] for r in every] == list(range(1, len(every) + 1))  # oldest first, no gap
    produced = app_lines(every)
    assert [x for x in produced if x.startswith("line")] == [f"line {i}" for i in range(60)]
    assert [x for x in produced if x.startswith("warn")] == [f"warn {i}" for i in range(0, 60, 7)]
    assert set(every[0]) >= {"timestamp", "line"}

    assert await logs(stack, job_id, "?tail=10") == every[-10:]
    assert await logs(stack, job_id, "?tail=0") == []
    since = every[30]["timestamp"]
    selected = [r for r in every if r["timestamp"] >= since]
    assert await logs(stack, job_id, f"?since={since}") == selected
    assert await logs(stack, job_id, f"?since={since}&tail=5") == selected[-5:]

    url = done["results"]["outputUrl"]
    assert url == f"{JOBS}/{job_id}/output"
    async with stack.http.get(stack.base_url + url, headers=stack.auth()) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    assert text == "".join(line + "\n" for line in produced)
    async with stack.http.get(stack.base_url + url) as r:
        assert r.status == 401  # authenticated


async def test_follow_live_resume_in_the_middle_and_final_event(net: tuple[Stack, str]) -> None:
    stack, network = net
    count = 300
    program = (
        "import time\n"
        "time.sleep(1)\n"
        f"for i in range({count}):\n"
        " print(f'tick {i}', flush=True); time.sleep(0.01)"
    )
    job_id = await submit(stack, network, program)
    await stack.wait_for(job_id, {"running"}, timeout=30)
    seen: list[tuple[int, str]] = []
    first = await follow(stack, job_id)
    reader = Sse(first)
    async for seq, _, data in reader.events():  # live lines, then a disconnect mid-stream
        assert seq is not None
        seen.append((seq, data["line"]))
        if len(seen) == 100:
            break
    first.close()
    assert reader.comments >= 1  # the heartbeat kept the idle stream alive before output began
    await asyncio.sleep(0.3)  # lines keep arriving while we are away
    second = await follow(stack, job_id, last_id=seen[-1][0])
    end: dict[str, Any] = {}
    async for seq, event, data in Sse(second).events():
        if event == "end":
            end = data
            break
        assert seq is not None
        seen.append((seq, data["line"]))
    second.close()
    assert end == {"status": "completed"}
    seqs = [s for s, _ in seen]
    assert seqs == list(range(1, len(seqs) + 1)), "a gap or a repeat across the resume"
    stored = await logs(stack, job_id)
    assert seqs == [r["seq"] for r in stored]
    assert [x for _, x in seen if x.startswith("tick")] == [f"tick {i}" for i in range(count)]

    # A follower arriving after the end gets the whole backlog, then the final event at once.
    late = await follow(stack, job_id, "&tail=3")
    received = [(seq, event) async for seq, event, _ in Sse(late).events()]
    assert received == [(r["seq"], "message") for r in stored[-3:]] + [(None, "end")]


async def test_many_followers_share_one_subscription(net: tuple[Stack, str]) -> None:
    stack, network = net
    program = "import time\ntime.sleep(1.5)\nfor i in range(200): print(i, flush=True)"
    job_id = await submit(stack, network, program)
    await stack.wait_for(job_id, {"running"}, timeout=30)
    followers = [await follow(stack, job_id) for _ in range(100)]

    async def read(response: aiohttp.ClientResponse) -> list[str]:
        lines = []
        async for _, event, data in Sse(response).events():
            if event == "end":
                return lines
            lines.append(data["line"])
        raise AssertionError("stream closed without the final event")

    hub = stack.gateway.logs_hub
    assert hub.followers == 100 and len(hub._topics) == 1
    results = await asyncio.gather(*(read(r) for r in followers))
    for response in followers:
        response.close()
    expected = [str(i) for i in range(200)]
    assert all([x for x in lines if x.isdigit()] == expected for lines in results)
    await wait_until(lambda: _no_followers(stack))


async def _no_followers(stack: Stack) -> bool:
    return stack.gateway.logs_hub.followers == 0


@pytest.mark.parametrize("net", [pytest.param("akash", id="akash")], indirect=True)
async def test_a_slow_follower_is_dropped(net: tuple[Stack, str]) -> None:
    stack, network = net
    stack.gateway.settings.sse_buffer_bytes = 256 * 1024
    stack.gateway.settings.sse_write_timeout = 1.0
    stack.gateway.logs_hub._capacity = 256 * 1024
    program = (
        "import time\ntime.sleep(1)\nfor i in range(60000): print('x' * 150, i)\ntime.sleep(20)"
    )
    job_id = await submit(stack, network, program)
    await stack.wait_for(job_id, {"running"}, timeout=30)
    host, port = stack.base_url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that never reads
    sock.connect((host, int(port)))
    request = (
        f"GET {JOBS}/{job_id}/logs?follow=true HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {stack.key}\r\n\r\n"
    )
    sock.sendall(request.encode())
    await wait_until(lambda: _has_followers(stack), timeout=10)
    await wait_until(lambda: _no_followers(stack), timeout=30)  # dropped while the job runs
    assert (await stack.job(job_id))["status"] == "running"
    sock.setblocking(False)
    received = b""
    loop = asyncio.get_running_loop()
    while chunk := await asyncio.wait_for(loop.sock_recv(sock, 65536), 10):
        received += chunk
    sock.close()
    assert len(received) < 60000 * 150  # cut off, not served in full
    await stack.call("POST", f"{JOBS}/{job_id}/cancel")
    await stack.wait_for(job_id, {"cancelled"}, timeout=30)


async def _has_followers(stack: Stack) -> bool:
    return stack.gateway.logs_hub.followers > 0


async def test_long_lines_are_cut_and_retention_is_enforced(net: tuple[Stack, str]) -> None:
    stack, network = net
    long_job = await submit(stack, network, "print('y' * 30000); print('after')")
    many_job = await submit(stack, network, "for i in range(2000): print('n', i)")
    await stack.wait_for(long_job, {"completed"}, timeout=60)
    await stack.wait_for(many_job, {"completed"}, timeout=60)
    cut = app_lines(await logs(stack, long_job))
    assert cut[1] == "after"
    assert len(cut[0].encode()) <= 16 * 1024 and cut[0].endswith(" …[cut]")
    assert cut[0].startswith("y" * 1000)

    async def trimmed() -> bool:
        return len(await logs(stack, many_job)) == 500

    await wait_until(trimmed, timeout=15)  # log_retention_lines=500: the newest 500 remain
    kept = await logs(stack, many_job)
    assert "n 1999" in app_lines(kept) and "n 1000" not in app_lines(kept)


async def test_metrics_match_real_cpu_and_memory(net: tuple[Stack, str]) -> None:
    """A busy loop holding 200 MiB: CPU within 25 % of 1000 millicores, memory within
    200–260 MiB (the interpreter itself adds ~10–20 MiB)."""
    stack, network = net
    program = (
        "import time\nb = b'x' * (200 << 20)\nend = time.time() + 6\nwhile time.time() < end: pass"
    )
    job_id = await submit(stack, network, program)
    await stack.wait_for(job_id, {"completed"}, timeout=60)
    data: dict[str, Any] = {}

    async def sampled() -> bool:
        nonlocal data
        status, _, body = await stack.call(
            "GET", f"{JOBS}/{job_id}/metrics?period=1h&resolution=1m"
        )
        assert status == 200, body
        data = body["data"]
        return bool(data["cpu"]) and (bool(data["memory"]) or network not in MEMORY_MEASURED)

    await wait_until(sampled, timeout=15)
    cpu = max(p["value"] for p in data["cpu"])
    assert 750 <= cpu <= 1250, data["cpu"]
    memory = max((p["value"] for p in data["memory"]), default=0)
    if network in MEMORY_MEASURED:
        assert 200 * 2**20 <= memory <= 260 * 2**20, data["memory"]
    else:
        assert memory == 0, data["memory"]  # honestly unknown, never invented
    assert data["network"] == {"rx": [], "tx": []}  # not measured by these networks: no points


@pytest.mark.parametrize("net", [pytest.param("akash", id="akash")], indirect=True)
async def test_bad_parameters_and_other_tenants(net: tuple[Stack, str]) -> None:
    stack, network = net
    job_id = await submit(stack, network, "print('hi')")
    bad = {
        "?tail=-1": "tail",
        "?tail=abc": "tail",
        "?tail=10001": "tail",
        "?since=yesterday": "since",
        "?follow=maybe": "follow",
        "?lines=3": "lines",
    }
    for query, field in bad.items():
        status, _, body = await stack.call("GET", f"{JOBS}/{job_id}/logs{query}")
        assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", (query, body)
        assert body["error"]["details"][0]["field"] == field
    for query, field in {
        "?period=2h": "period",
        "?resolution=10s": "resolution",
        "?period=7d&resolution=1m": "resolution",
        "?period=24h&resolution=1m": "resolution",
    }.items():
        status, _, body = await stack.call("GET", f"{JOBS}/{job_id}/metrics{query}")
        assert status == 400 and body["error"]["details"][0]["field"] == field, (query, body)
    status, _, body = await stack.call("GET", f"{JOBS}/{job_id}/metrics?period=7d&resolution=1h")
    assert status == 200, body
    status, _, body = await stack.call(
        "POST", "/api/auth/keys", json={"name": "o", "tenant": "other", "scopes": ["jobs:read"]}
    )
    other = body["data"]["key"]
    for path in ("logs", "logs?follow=true", "output", "metrics"):
        status, _, body = await stack.call("GET", f"{JOBS}/{job_id}/{path}", key=other)
        assert status == 404 and body["error"]["code"] == "JOB_NOT_FOUND", (path, body)
    await stack.wait_for(job_id, {"completed"}, timeout=60)
