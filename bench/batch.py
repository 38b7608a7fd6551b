"""End-to-end throughput of one batch: submission to every job `completed`, as JSON.

Starts `cortex up` (NATS, PostgreSQL, every service, the Akash devnet in zero-delay mode) in
a temp dir, submits one batch of N trivial jobs (`true`: each is still a real process on the
emulated network) and stops the clock at the batch's `batch.completed` event on the NATS
stream (what a user watching events sees; no polling load on the system under test).
After the run, a baseline in the same process tree: the same number of `true` processes
spawned straight from asyncio, 128 at a time (the provider's default in flight), with nothing
else running; `ratio` is jobs/s over that bare spawn rate (1.0 would be a free control plane).
`cpuMsPerJob` is each component's CPU time over the batch (from submission to completion) per
job: it moves with the VM's speed less than jobs/s does, and says where the time went.
Usage: python bench/batch.py [--jobs 1000] [--concurrency 1000] [--out bench/results/batch.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import nats
import psutil
from nats.aio.msg import Msg

from contracts import subjects
from cortex_cli.process import start_cortex
from embedded.ports import free_port

JOB = {
    "provider": "akash",
    "image": "alpine:3.20",
    "cpu": 100,
    "memory": "32Mi",
    "storage": "64Mi",
    "duration": 600,
    "command": ["true"],
}
STACK_ENV = {
    "CORTEX_DEVNETS": "akash",
    "CORTEX_AKASH_POLL_INTERVAL": "0.05",
    "CORTEX_OUTBOX_POLL_INTERVAL": "0.05",
    # The product's default (start_cortex's test setting is 0.5 s, for tests that provoke a
    # lost lease): a job that waits longer than this for a Kubernetes event costs a Console
    # call, and under a 1,000-job load nearly every job waited that long.
    "CORTEX_AKASH_STATUS_INTERVAL": "5.0",
    "CORTEX_LOG_LEVEL": "warning",
}


async def run(jobs: int, concurrency: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cortex = await start_cortex(Path(tmp) / "cortex", free_port(), env={**STACK_ENV, **env})
        nc = await nats.connect(cortex.manifest()["natsUrl"])
        try:
            # The clock stops at the batch's `batch.completed` event on the NATS stream, as a
            # user watching events sees it: no polling load on the system under test, and no
            # poll interval added to the time. Polling remains the fallback.
            completed: dict[str, float] = {}
            done = asyncio.Event()

            async def on_completed(msg: Msg) -> None:
                completed[msg.subject.split(".")[3]] = time.monotonic()
                done.set()

            await nc.subscribe(subjects.resource_event("batch", "*", "completed"), cb=on_completed)
            headers = {"Authorization": f"Bearer {cortex.key}"}
            async with aiohttp.ClientSession(cortex.url, headers=headers) as http:
                cpu_before = stack_cpu(cortex.process.pid)
                started = time.monotonic()
                body = {"jobs": [JOB] * jobs, "concurrency": concurrency}
                async with http.post("/api/plugin-core/jobs/batch", json=body) as r:
                    created = await r.json()
                    assert r.status == 201, created
                submitted = time.monotonic() - started
                batch_id = created["data"]["batchId"]
                view = await _wait_until_done(http, batch_id, done)
                ended_at = completed.get(batch_id, time.monotonic())
                elapsed = ended_at - started
                cpu_after = stack_cpu(cortex.process.pid)
        finally:
            await nc.close()
            await cortex.stop()
    baseline = await bare_spawns(jobs)
    spent = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    per_job = {
        name: round(seconds * 1000 / jobs, 2)
        for name, seconds in sorted(spent.items(), key=lambda item: -item[1])
    }
    return {
        "benchmark": "batch",
        "jobs": jobs,
        "concurrency": concurrency,
        "env": {**STACK_ENV, **env},
        "submitSeconds": round(submitted, 3),
        "totalSeconds": round(elapsed, 2),
        "jobsPerSecond": round(jobs / elapsed, 1),
        "counts": view["counts"],
        "baselineSpawnsPerSecond": round(baseline, 1),
        "ratio": round(jobs / elapsed / baseline, 3),
        "cpuMsPerJob": per_job,
        "cpuMsPerJobTotal": round(sum(per_job.values()), 2),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
    }


def stack_cpu(root: int) -> dict[str, float]:
    """CPU seconds so far of every process under `cortex up`, by component; a devnet's
    finished workloads (its reaped children) count as `<devnet> workloads`."""
    totals: dict[str, float] = {}
    for process in psutil.Process(root).children(recursive=True):
        try:
            name, times = _component(process.cmdline()), process.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        if name is None:
            continue
        totals[name] = totals.get(name, 0.0) + times.user + times.system
        if name.startswith("devnet-"):
            workloads = f"{name} workloads"
            totals[workloads] = totals.get(workloads, 0.0) + times.children_user
            totals[workloads] += times.children_system
    return totals


def _component(argv: list[str]) -> str | None:
    line = " ".join(argv)
    if "cortex_cli run " in line:
        return line.split("cortex_cli run ", 1)[1].split()[0]
    if "devnets." in line:
        return "devnet-" + line.split("devnets.", 1)[1].split()[0]
    if "nats-server" in line:
        return "nats-server"
    if argv and "postgres" in argv[0]:
        return "postgres"
    return None


async def _wait_until_done(
    http: aiohttp.ClientSession, batch_id: str, event: asyncio.Event
) -> dict[str, Any]:
    """The batch's final view: asked for once its completion event arrived (or, should the
    event not come, every 2 s until the batch says it is done)."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=2.0)
        async with http.get(f"/api/plugin-core/jobs/batches/{batch_id}") as r:
            view: dict[str, Any] = (await r.json())["data"]
        if view["done"]:
            return view
        event.clear()  # another batch's event, or not yet: keep waiting


async def bare_spawns(count: int, at_once: int = 128) -> float:
    """Processes per second running `true` with nothing but asyncio around it."""
    slots = asyncio.Semaphore(at_once)

    async def one() -> None:
        async with slots:
            process = await asyncio.create_subprocess_exec(
                "true", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            await process.wait()

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(count)))
    return count / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for cortex up")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    result = asyncio.run(run(args.jobs, args.concurrency, env))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
