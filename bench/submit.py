"""Sustained `POST /jobs` against the full local stack, and the bare-aiohttp ceiling.

Starts `cortex up` (NATS, PostgreSQL, every service, the Akash devnet) in a temp dir, loads
it from a separate process at N connections for D seconds, then does the same against a bare
aiohttp server in the same process tree, and writes JSON with both and their ratio.
Usage: python bench/submit.py [--duration 30] [--concurrency 64] [--out bench/results/submit.json]
       python bench/submit.py --duration 300 --max-requests 100000 --skip-ceiling --out …  (memory)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from cortex_cli.process import start_cortex
from embedded.ports import free_port

HERE = Path(__file__).parent
UNBOUNDED = 10_000_000  # with a count below this, the Python load process is used: it stops at it
JOB = {
    "provider": "akash",
    "image": "alpine:3.20",
    "cpu": 100,
    "memory": "32Mi",
    "storage": "64Mi",
    "duration": 60,
    "command": ["sleep", "3600"],
}
# The bench measures intake: the network works through its backlog at a bounded pace.
STACK_ENV = {
    "CORTEX_RATE_LIMIT": json.dumps({"rate": 1e9, "burst": 1_000_000_000}),
    "CORTEX_MAX_ACTIVE_DEPLOYMENTS": "4",
    "CORTEX_LOG_LEVEL": "warning",
}


async def load(
    url: str, key: str, concurrency: int, duration: float, max_requests: int
) -> dict[str, Any]:
    """wrk when installed (light on CPU, so the stack gets the cores), else bench/loadgen.py."""
    if shutil.which("wrk") and max_requests >= UNBOUNDED:  # wrk cannot stop at a count
        return await load_wrk(url, key, concurrency, duration)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "loadgen.py"), "--url", url, "--key", key,
        "--body", json.dumps(JOB), "--concurrency", str(concurrency),
        "--duration", str(duration), "--max-requests", str(max_requests),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    result: dict[str, Any] = json.loads(out)
    result["generator"] = "bench/loadgen.py"
    return result


async def load_wrk(url: str, key: str, concurrency: int, duration: float) -> dict[str, Any]:
    env = {**os.environ, "WRK_BODY": json.dumps(JOB), "WRK_KEY": key}

    async def wrk(seconds: float) -> dict[str, Any]:
        process = await asyncio.create_subprocess_exec(
            "wrk", "-t", "2", "-c", str(concurrency), "-d", f"{seconds:g}s",
            "-s", str(HERE / "wrk_post.lua"), url,
            stdout=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        out, _ = await process.communicate()
        found: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return found

    await wrk(2)  # warm-up, not counted
    raw = await wrk(duration)
    accepted = raw["requests"] - raw["failed"]
    return {
        "generator": "wrk -t 2",
        "url": url,
        "concurrency": concurrency,
        "seconds": raw["seconds"],
        "requests": raw["requests"],
        "accepted": accepted,
        "failed": raw["failed"],
        "acceptedPerSecond": round(accepted / raw["seconds"], 1),
        "p50Ms": raw["p50Ms"],
        "p99Ms": raw["p99Ms"],
        "maxMs": raw["maxMs"],
    }


def rss_mb(pids: dict[str, int]) -> dict[str, float]:
    found = {}
    for name, pid in pids.items():
        try:
            found[name] = round(psutil.Process(pid).memory_info().rss / 2**20, 1)
        except psutil.NoSuchProcess:
            found[name] = -1.0
    return found


async def bench_stack(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cortex-bench-") as tmp:
        cortex = await start_cortex(Path(tmp), free_port(), env=STACK_ENV)
        try:
            before = rss_mb(cortex.pids())
            url = cortex.url + "/api/plugin-core/jobs"
            result = await load(url, cortex.key, args.concurrency, args.duration, args.max_requests)
            after = rss_mb(cortex.pids())
            async with aiohttp.ClientSession() as http:
                headers = {"Authorization": f"Bearer {cortex.key}"}
                async with http.get(url + "?limit=1", headers=headers) as r:
                    total = (await r.json())["meta"]["pagination"]["total"]
            result["jobsRecorded"] = total
            result["rssMbBefore"], result["rssMbAfter"] = before, after
        finally:
            await cortex.stop()
    return result


async def bench_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "ceiling.py"),
        "--port",
        str(port),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        await server.stdout.readline()
        await asyncio.sleep(0.3)
        url = f"http://127.0.0.1:{port}/api/plugin-core/jobs"
        return await load(url, "", args.concurrency, args.duration, args.max_requests)
    finally:
        server.terminate()
        await server.wait()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--max-requests",
        type=int,
        default=UNBOUNDED,
        help="stop at this count (Python load process)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "submit.json")
    parser.add_argument("--skip-ceiling", action="store_true", help="stack only (memory runs)")
    args = parser.parse_args()
    stack = await bench_stack(args)
    ceiling = None if args.skip_ceiling else await bench_ceiling(args)
    report = {
        "benchmark": "submit",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version()},
        "stack": stack,
        "bareAiohttp": ceiling,
        "ratio": round(stack["acceptedPerSecond"] / ceiling["acceptedPerSecond"], 3)
        if ceiling
        else None,
        "targets": {"acceptedPerSecond": 2000, "p99Ms": 50, "rssMb": 250},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
