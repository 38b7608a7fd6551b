"""DeploymentStore on a real PostgreSQL: grouped saves keep each driver's last step."""

from __future__ import annotations

import asyncio
import random

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


async def test_claims_skip_live_claims_and_take_released_or_lapsed_ones(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        store = DeploymentStore(pool, "akash")
        await store.migrate()
        ids = ["a-new", "b-ours", "c-theirs", "d-theirs-lapsed", "e-ours-lapsed", "f-closed"]
        await store.add_many([(i, "tenant", {"image": "alpine"}) for i in ids])
        claims = {
            "b-ours": ("me", 60),
            "c-theirs": ("other", 60),
            "d-theirs-lapsed": ("other", -1),
            "e-ours-lapsed": ("me", -1),
        }
        for job_id, (owner, seconds) in claims.items():
            await pool.execute(
                "UPDATE akash.deployments SET owner = $2, "
                "owner_until = now() + make_interval(secs => $3) WHERE job_id = $1",
                job_id,
                owner,
                float(seconds),
            )
        await pool.execute(
            "UPDATE akash.deployments SET state = 'closed' WHERE job_id = 'f-closed'"
        )

        # We still drive e (our renew is late): a lapsed claim of ours is not taken twice.
        claimed = await store.claim("me", 15, 10, driving=["b-ours", "e-ours-lapsed"])
        assert sorted(d.job_id for d in claimed) == ["a-new", "d-theirs-lapsed"]

        await store.release_claim("me", "b-ours")  # its drive ended early
        await store.release_claim("me", "c-theirs")  # not ours to give back: no effect
        again = await store.claim(
            "me", 15, 10, driving=["a-new", "d-theirs-lapsed", "e-ours-lapsed"]
        )
        assert [d.job_id for d in again] == ["b-ours"]
        owner = await pool.fetchval("SELECT owner FROM akash.deployments WHERE job_id = 'c-theirs'")
        assert owner == "other"
    finally:
        await pool.close()


async def test_group_saves_and_claim_renewals_on_the_same_rows_never_deadlock(
    database_url: str,
) -> None:
    """Drivers save in any order; a group is written in job id order, as `renew` locks.

    Twenty rounds of four stores (four replicas' worth of group commits) each saving the same
    sixty deployments in its own shuffled order, while two renewals run: a group written in
    the order it was given (an `UPDATE … FROM unnest` locks in plan order) deadlocks here.
    """
    pool = await create_pool(database_url, max_size=8)
    try:
        stores = [DeploymentStore(pool, "akash") for _ in range(4)]
        await stores[0].migrate()
        ids = [f"lock-{i:03d}" for i in range(60)]
        await stores[0].add_many([(i, "tenant", {"image": "alpine"}) for i in ids])
        await pool.execute(
            "UPDATE akash.deployments SET owner = 'me', owner_until = now() "
            "WHERE job_id = ANY($1::text[])",
            ids,
        )
        shuffler = random.Random(7)
        for round_ in range(20):
            saves = []
            for writer, store in enumerate(stores):
                for job_id in shuffler.sample(ids, len(ids)):
                    d = await _load(pool, job_id)
                    d.state, d.handle = S.RUNNING, {"round": round_, "writer": writer}
                    saves.append(store.save(d))
            await asyncio.gather(
                *saves, stores[0].renew("me", 60, ids), stores[1].renew("me", 60, ids[::-1])
            )
        rounds = await pool.fetch("SELECT DISTINCT handle->>'round' AS r FROM akash.deployments")
        assert [r["r"] for r in rounds] == ["19"]
    finally:
        await pool.close()
