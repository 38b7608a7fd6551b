"""End-to-end log throughput and delay: a chatty job → Akash devnet → provider-akash → NATS →
scheduler store + gateway → SSE followers, against `cortex up` (every service its own
process, real NATS and PostgreSQL; `--in-process` runs the test stack in one event loop).

Each printed line carries `time.time()` at its write; a follower computes the delay when the
line arrives. Reports JSON: lines/s to one follower, p50/p99 delay in a burst and at a paced
rate, and the gateway's RSS before and after 200 followers of one job.
Usage: python bench/logs.py [--lines 50000] [--followers 200] [--follower-lines 2000]
       [--paced-rate 20000] [--paced-lines 100000] [--in-process] [--out bench/results/logs.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cortex_cli.process import start_cortex
from embedded.nats import NatsServer
from embedded.ports import free_port
from embedded.postgres import PostgresServer
from tests.integration.stack import JOBS, start_stack, stop_stack

CHATTY = "import time\ntime.sleep({pause})\nfor i in range({n}): print(time.time(), i)"
# The same at a steady rate below the pipeline's throughput: what a follower waits per line.
PACED = (
    "import time\ntime.sleep({pause})\nstart = time.time()\n"
    "for i in range({n}):\n"
    "    wait = start + i / {rate} - time.time()\n"
    "    if wait > 0: time.sleep(wait)\n"
    "    print(time.time(), i)"
)


@dataclass
class Target:
    """Where the bench talks to: a base URL with a key, and whose RSS counts as the gateway's."""

    base_url: str
    headers: dict[str, str]
    http: aiohttp.ClientSession
    gateway_pid: int


async def follow(target: Target, job_id: str, delays: list[float] | None) -> int:
    """Read the job's SSE stream to its end; returns the lines received."""
    url = f"{target.base_url}{JOBS}/{job_id}/logs?follow=true"
    count = 0
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    async with target.http.get(url, headers=target.headers, timeout=timeout) as response:
        async for raw in response.content:
            if raw.startswith(b"data: "):
                data = json.loads(raw[6:])
                if "line" not in data:
                    break  # the final event
                count += 1
                if delays is not None:
                    delays.append(time.time() - float(data["line"].split()[0]))
    return count


async def submit(target: Target, lines: int, pause: float, rate: int = 0) -> str:
    program = (PACED if rate else CHATTY).format(n=lines, pause=pause, rate=rate)
    spec = {
        "provider": "akash", "image": "python:3.11-slim", "cpu": 1000, "memory": "256Mi",
        "storage": "128Mi", "duration": 600, "command": ["python3", "-c", program],
    }  # fmt: skip
    url = f"{target.base_url}{JOBS}"
    async with target.http.post(url, json=spec, headers=target.headers) as r:
        job_id = str((await r.json())["data"]["id"])
    async with asyncio.timeout(60):
        while True:
            async with target.http.get(f"{url}/{job_id}", headers=target.headers) as r:
                if (await r.json())["data"]["status"] == "running":
                    return job_id
            await asyncio.sleep(0.05)


def percentiles(delays: list[float]) -> dict[str, float]:
    delays = sorted(delays)
    return {
        "p50": round(delays[len(delays) // 2] * 1000, 1),
        "p99": round(delays[int(len(delays) * 0.99)] * 1000, 1),
        "max": round(delays[-1] * 1000, 1),
    }


async def measure(target: Target, a: argparse.Namespace) -> dict[str, Any]:
    gateway = psutil.Process(target.gateway_pid)
    job_id = await submit(target, a.lines, pause=2.0)
    delays: list[float] = []
    started = time.perf_counter()
    received = await follow(target, job_id, delays)
    elapsed = time.perf_counter() - started - 2.0  # the job's own pause before printing
    paced_job = await submit(target, a.paced_lines, pause=2.0, rate=a.paced_rate)
    paced: list[float] = []
    await follow(target, paced_job, paced)
    rss_before = gateway.memory_info().rss
    many = await submit(target, a.follower_lines, pause=3.0)
    followers = [follow(target, many, None) for _ in range(a.followers)]
    peak = [rss_before]

    async def sample_rss() -> None:
        while True:
            peak[0] = max(peak[0], gateway.memory_info().rss)
            await asyncio.sleep(0.2)

    sampler = asyncio.get_running_loop().create_task(sample_rss())
    counts = await asyncio.gather(*followers)
    sampler.cancel()
    return {
        "lines": a.lines,
        "received": received,
        "linesPerSecond": round(received / elapsed),
        "delayMs": percentiles(delays),
        "paced": {
            "linesPerSecond": a.paced_rate,
            "lines": a.paced_lines,
            "delayMs": percentiles(paced),
        },
        "followers": a.followers,
        "followerLines": {
            "min": min(counts, default=0),
            "max": max(counts, default=0),
            "expected": a.follower_lines,
        },
        "gatewayRssMb": {"before": rss_before // 2**20, "peak": peak[0] // 2**20},
    }


async def run(a: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    async with aiohttp.ClientSession() as http:
        if a.in_process:
            nats = NatsServer.start(work / "nats")
            postgres = PostgresServer.start(work / "pg", durable=True)
            stack = await start_stack(nats.url, postgres.dsn("cortex"), work)
            try:
                target = Target(stack.base_url, stack.auth(), http, os.getpid())
                result = await measure(target, a)
            finally:
                await stop_stack(stack)
                nats.stop()
                postgres.stop()
            where = "in-process test stack: one process holds every service and the devnet"
        else:
            env = {"CORTEX_DEVNETS": "akash", "CORTEX_LOG_LEVEL": "warning"}
            cortex = await start_cortex(work / "cortex", free_port(), env=env)
            try:
                headers = {"Authorization": f"Bearer {cortex.key}"}
                target = Target(cortex.url, headers, http, cortex.pids()["gateway"])
                result = await measure(target, a)
            finally:
                await cortex.stop()
            where = "cortex up: every service its own process"
    return {
        "bench": "logs",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version()},
        "stack": where,
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--follower-lines", type=int, default=2_000)
    parser.add_argument("--paced-rate", type=int, default=20_000)
    parser.add_argument("--paced-lines", type=int, default=100_000)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/results/logs.json"))
    args = parser.parse_args()
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
