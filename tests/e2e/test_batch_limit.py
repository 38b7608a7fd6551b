"""A 1,000-job batch with concurrency 5 on real processes: two scheduler replicas, one of them
killed with SIGKILL mid-batch; the limit holds at every sample and every job completes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp

from cortex_cli.process import start_cortex
from embedded.ports import free_port

JOBS = "/api/plugin-core/jobs"
TRIVIAL = {
    "provider": "akash",
    "image": "alpine:3.20",
    "cpu": 100,
    "memory": "32Mi",
    "storage": "64Mi",
    "duration": 600,
    "command": ["true"],
}
SIZE, LIMIT = 1000, 5
# Two schedulers; only the Akash devnet; fast polling of lease status (the job's exit is seen
# there) so the run measures the stack, not poll intervals.
ENV = {
    "CORTEX_SCHEDULER_REPLICAS": "2",
    "CORTEX_DEVNETS": "akash",
    "CORTEX_AKASH_STATUS_INTERVAL": "0.05",
    "CORTEX_AKASH_POLL_INTERVAL": "0.05",
    "CORTEX_CLAIM_INTERVAL": "0.2",
    "CORTEX_OUTBOX_POLL_INTERVAL": "0.05",
    "CORTEX_LOG_LEVEL": "warning",
}


async def test_1000_job_batch_with_concurrency_5_two_schedulers_and_a_kill_9(
    tmp_path: Path,
) -> None:
    cortex = await start_cortex(tmp_path / "cortex", free_port(), env=ENV)
    headers = {"Authorization": f"Bearer {cortex.key}"}
    try:
        assert {"scheduler", "scheduler-2"} <= set(cortex.pids())
        async with aiohttp.ClientSession(cortex.url, headers=headers) as http:
            started = time.monotonic()
            body = {"jobs": [TRIVIAL] * SIZE, "concurrency": LIMIT}
            async with http.post(f"{JOBS}/batch", json=body) as r:
                created = await r.json()
                assert r.status == 201, created
            batch_id = created["data"]["batchId"]
            submitted = time.monotonic() - started

            samples, peak, killed, done = 0, 0, False, False
            live = f"{JOBS}?batch={batch_id}&status=scheduled,running&limit=1"
            async with asyncio.timeout(900):
                while not done:
                    async with http.get(live) as r:
                        page = await r.json()
                    in_flight = page["meta"]["pagination"]["total"]
                    assert in_flight <= LIMIT, f"{in_flight} scheduled or running at once"
                    peak, samples = max(peak, in_flight), samples + 1
                    async with http.get(f"{JOBS}/batches/{batch_id}") as r:
                        view = (await r.json())["data"]
                    done = view["done"]
                    if not killed and view["counts"]["completed"] >= SIZE // 4:
                        os.kill(cortex.pids()["scheduler-2"], signal.SIGKILL)
                        killed = True
                    await asyncio.sleep(0.05)
            elapsed = time.monotonic() - started
            print(
                f"\nbatch of {SIZE} (concurrency {LIMIT}): submitted in {submitted:.2f} s, "
                f"all ended after {elapsed:.1f} s ({SIZE / elapsed:.1f} jobs/s); "
                f"{samples} samples, peak {peak}"
            )
            assert killed and peak == LIMIT
            assert view["counts"]["completed"] == SIZE, view
            async with http.get(f"{JOBS}?batch={batch_id}&status=completed&limit=1") as r:
                assert (await r.json())["meta"]["pagination"]["total"] == SIZE
    finally:
        await cortex.stop()
