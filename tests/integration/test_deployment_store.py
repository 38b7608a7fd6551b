"""DeploymentStore on a real PostgreSQL: grouped saves keep each driver's last step."""

from __future__ import annotations

import asyncio

import asyncpg

from provider_runtime.model import Deployment, DeploymentState, Outcome
from provider_runtime.store import DeploymentStore
from runtime.database import create_pool

S = DeploymentState


async def test_saves_made_together_all_land_and_a_jobs_later_save_wins(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        store = DeploymentStore(pool, "akash")
        await store.migrate()
        ids = [f"job-{i:02d}" for i in range(20)]
        await store.add_many([(i, "tenant", {"image": "alpine"}) for i in ids])
        loaded = {i: await _load(pool, i) for i in ids}
        for i, d in loaded.items():
            d.state, d.handle = S.RUNNING, {"dseq": i}
        in_flight = asyncio.ensure_future(store.save(loaded["job-19"]))
        await asyncio.sleep(0)  # its write is under way: what follows is written as one group
        # job-00's driver was interrupted mid-save and then decided: both saves share a group.
        finishing = await _load(pool, "job-00")
        finishing.state, finishing.outcome = S.FINISHING, Outcome("released", "cancelled")
        saves = [store.save(loaded[i]) for i in ids[:-1]] + [store.save(finishing)]
        await asyncio.gather(in_flight, *saves)

        rows = {r["job_id"]: r for r in await pool.fetch("SELECT * FROM akash.deployments")}
        assert rows["job-00"]["state"] == "finishing"
        assert rows["job-00"]["outcome"]["reason"] == "cancelled"
        for i in ids[1:]:
            assert rows[i]["state"] == "running" and rows[i]["handle"] == {"dseq": i}
    finally:
        await pool.close()


async def _load(pool: asyncpg.Pool, job_id: str) -> Deployment:
    return Deployment.from_row(
        await pool.fetchrow("SELECT * FROM akash.deployments WHERE job_id = $1", job_id)
    )
