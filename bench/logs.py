"""End-to-end log throughput and delay: a chatty job → network → provider → NATS → gateway
→ SSE followers, on the in-process stack (gateway, scheduler, provider-akash, devnet, one
event loop) with real NATS and PostgreSQL.

Each printed line carries `time.time()` at its write; a follower computes the delay when the
line arrives. Reports JSON: lines/s to one follower, p50/p99 delay, and the process RSS
before and after 200 followers of one job (an upper bound for the gateway's share).
Usage: python bench/logs.py [--lines 200000] [--followers 200] [--follower-lines 5000]
       [--paced-rate 5000] [--paced-lines 25000] [--out bench/results/logs.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embedded.nats import NatsServer
from embedded.postgres import PostgresServer
from tests.integration.stack import JOBS, Stack, start_stack, stop_stack

CHATTY = "import time\ntime.sleep({pause})\nfor i in range({n}): print(time.time(), i)"
# The same at a steady rate below the pipeline's throughput: what a follower waits per line.
PACED = (
    "import time\ntime.sleep({pause})\nstart = time.time()\n"
    "for i in range({n}):\n"
    "    wait = start + i / {rate} - time.time()\n"
    "    if wait > 0: time.sleep(wait)\n"
    "    print(time.time(), i)"
)


async def follow(stack: Stack, job_id: str, delays: list[float] | None) -> int:
    """Read the job's SSE stream to its end; returns the lines received."""
    url = f"{stack.base_url}{JOBS}/{job_id}/logs?follow=true"
    count = 0
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    async with stack.http.get(url, headers=stack.auth(), timeout=timeout) as response:
        async for raw in response.content:
            if raw.startswith(b"data: "):
                data = json.loads(raw[6:])
                if "line" not in data:
                    break  # the final event
                count += 1
                if delays is not None:
                    delays.append(time.time() - float(data["line"].split()[0]))
    return count


async def submit(stack: Stack, lines: int, pause: float, rate: int = 0) -> str:
    program = (PACED if rate else CHATTY).format(n=lines, pause=pause, rate=rate)
    job = await stack.submit(
        provider="akash", image="python:3.11-slim", cpu=1000, memory="256Mi", duration=600,
        command=["python3", "-c", program],
    )  # fmt: skip
    await stack.wait_for(job["id"], {"running"}, timeout=60)
    return str(job["id"])


def percentiles(delays: list[float]) -> dict[str, float]:
    delays = sorted(delays)
    return {
        "p50": round(delays[len(delays) // 2] * 1000, 1),
        "p99": round(delays[int(len(delays) * 0.99)] * 1000, 1),
        "max": round(delays[-1] * 1000, 1),
    }


async def run(
    lines: int, followers: int, follower_lines: int, paced_rate: int, paced_lines: int
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    nats = NatsServer.start(work / "nats")
    postgres = PostgresServer.start(work / "pg", durable=True)
    stack = await start_stack(nats.url, postgres.dsn("cortex"), work)
    process = psutil.Process()
    try:
        job_id = await submit(stack, lines, pause=2.0)
        delays: list[float] = []
        started = time.perf_counter()
        received = await follow(stack, job_id, delays)
        elapsed = time.perf_counter() - started - 2.0  # the job's own pause before printing
        paced_job = await submit(stack, paced_lines, pause=2.0, rate=paced_rate)
        paced: list[float] = []
        await follow(stack, paced_job, paced)
        rss_before = process.memory_info().rss
        many = await submit(stack, follower_lines, pause=3.0)
        counts = await asyncio.gather(*(follow(stack, many, None) for _ in range(followers)))
        rss_after = process.memory_info().rss
    finally:
        await stop_stack(stack)
        nats.stop()
        postgres.stop()
    return {
        "bench": "logs",
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version()},
        "lines": lines,
        "received": received,
        "linesPerSecond": round(received / elapsed),
        "delayMs": percentiles(delays),
        "paced": {
            "linesPerSecond": paced_rate,
            "lines": paced_lines,
            "delayMs": percentiles(paced),
        },
        "followers": followers,
        "followerLines": {
            "min": min(counts, default=0),
            "max": max(counts, default=0),
            "expected": follower_lines,
        },
        "rssMb": {"before": rss_before // 2**20, "after": rss_after // 2**20},
        "note": "one process holds gateway, scheduler, provider-akash and the devnet",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--follower-lines", type=int, default=5_000)
    parser.add_argument("--paced-rate", type=int, default=5_000)
    parser.add_argument("--paced-lines", type=int, default=25_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results/logs.json"))
    args = parser.parse_args()
    result = asyncio.run(
        run(args.lines, args.followers, args.follower_lines, args.paced_rate, args.paced_lines)
    )
    text = json.dumps(result, indent=2)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
