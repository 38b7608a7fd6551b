"""Batches, idempotent submission, templates and route precedence against the whole stack."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.stack import JOBS, SPEC, Stack, wait_until

TERMINAL = {"completed", "failed", "cancelled", "expired"}
QUICK = {**SPEC, "command": ["sh", "-c", "sleep 0.3"]}


async def test_invalid_job_at_index_537_rejects_the_whole_batch_and_names_it(stack: Stack) -> None:
    jobs: list[dict[str, Any]] = [dict(QUICK) for _ in range(1000)]
    jobs[537] = {**QUICK, "memory": "lots"}
    jobs[900] = {**QUICK, "cpu": 0, "colour": "red"}
    status, _, body = await stack.call("POST", f"{JOBS}/batch", json={"jobs": jobs})
    assert status == 400, body
    assert body["error"]["code"] == "VALIDATION_ERROR"
    fields = {d["field"] for d in body["error"]["details"]}
    assert fields == {"jobs[537].memory", "jobs[900].cpu", "jobs[900].colour"}
    assert "jobs[537]" in body["error"]["message"]
    _, _, listing = await stack.call("GET", JOBS)
    assert listing["meta"]["pagination"]["total"] == 0  # nothing was created

    status, _, body = await stack.call("POST", f"{JOBS}/batch", json={"jobs": [QUICK] * 1001})
    assert status == 400 and body["error"]["details"][0]["field"] == "jobs"
    status, _, body = await stack.call(
        "POST", f"{JOBS}/batch", json={"jobs": [QUICK], "concurrency": 0}
    )
    assert status == 400 and body["error"]["details"][0]["field"] == "concurrency"


async def test_batch_never_runs_more_than_concurrency_and_finishes_in_order(stack: Stack) -> None:
    status, _, body = await stack.call(
        "POST", f"{JOBS}/batch", json={"jobs": [QUICK] * 12, "concurrency": 3}
    )
    assert status == 201, body
    batch_id, job_ids = body["data"]["batchId"], body["data"]["jobIds"]
    assert body["data"]["status"] == "submitted" and len(job_ids) == 12
    job = await stack.job(job_ids[0])
    assert job["batchId"] == batch_id and job["templateId"] is None and job["scheduleId"] is None
    assert job["events"][0] == {
        "type": "created",
        "timestamp": job["createdAt"],
        "batchId": batch_id,
    }

    peak = 0
    async with asyncio.timeout(90):
        while True:
            _, _, page = await stack.call("GET", f"{JOBS}?batch={batch_id}&limit=100")
            jobs = page["data"]
            live = [j for j in jobs if j["status"] in ("scheduled", "running")]
            peak = max(peak, len(live))
            # The network itself never holds more than the limit either.
            state = await stack.devnet_state()
            assert len(state["workloads"]) <= 3, state["workloads"]
            if all(j["status"] in TERMINAL for j in jobs):
                break
            await asyncio.sleep(0.02)
    assert peak <= 3 and peak >= 2
    assert all(j["status"] == "completed" for j in jobs)
    async with stack.scheduler.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, released_at FROM jobs.jobs WHERE batch_id = $1 ORDER BY batch_seq", batch_id
        )
    assert [r["id"] for r in rows] == job_ids
    released = [r["released_at"] for r in rows]
    assert released == sorted(released)  # released in submission order
    status, _, view = await stack.call("GET", f"{JOBS}/batches/{batch_id}")
    assert status == 200 and view["data"]["done"] is True
    assert view["data"]["counts"]["completed"] == 12 and view["data"]["counts"]["pending"] == 0


async def test_cancel_batch_ends_waiting_jobs_at_once_and_releases_nothing_more(
    stack: Stack,
) -> None:
    slow = {**SPEC, "command": ["sleep", "30"]}
    _, _, body = await stack.call(
        "POST", f"{JOBS}/batch", json={"jobs": [slow] * 6, "concurrency": 2}
    )
    batch_id, job_ids = body["data"]["batchId"], body["data"]["jobIds"]
    await stack.wait_for(job_ids[0], {"running"})
    status, _, view = await stack.call("POST", f"{JOBS}/batches/{batch_id}/cancel")
    assert status == 200 and view["data"]["cancelled"] is True
    for job_id in job_ids[2:]:
        job = await stack.job(job_id)
        assert job["status"] == "cancelled" and "before it was sent" in job["reason"]
    for job_id in job_ids[:2]:
        await stack.wait_for(job_id, {"cancelled"})
    _, _, view = await stack.call("GET", f"{JOBS}/batches/{batch_id}")
    assert view["data"]["done"] is True and view["data"]["counts"]["cancelled"] == 6
    status, _, body = await stack.call("GET", f"{JOBS}/batches/bat_nope")
    assert status == 404 and body["error"]["code"] == "BATCH_NOT_FOUND"


async def test_idempotent_repeat_returns_the_original_and_conflict_is_409(stack: Stack) -> None:
    headers = {"Idempotency-Key": "order-42"}
    status, first_headers, first = await stack.call("POST", JOBS, json=QUICK, headers=headers)
    assert status == 201 and "Idempotent-Replayed" not in first_headers
    status, again_headers, again = await stack.call("POST", JOBS, json=QUICK, headers=headers)
    assert status == 201 and again == first and again_headers["Idempotent-Replayed"] == "true"

    status, _, conflict = await stack.call(
        "POST", JOBS, json={**QUICK, "cpu": 500}, headers=headers
    )
    assert status == 409 and conflict["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert "order-42" in conflict["error"]["message"]
    # The same key on another endpoint is another request: a conflict too.
    status, _, conflict = await stack.call(
        "POST", f"{JOBS}/batch", json={"jobs": [QUICK]}, headers=headers
    )
    assert status == 409

    # Keys are per tenant: another tenant's identical key creates its own job.
    status, _, keyed = await stack.call(
        "POST",
        "/api/auth/keys",
        json={"name": "b", "tenant": "beta", "scopes": ["jobs:write", "jobs:read"]},
    )
    other = keyed["data"]["key"]
    status, _, theirs = await stack.call("POST", JOBS, other, json=QUICK, headers=headers)
    assert status == 201 and theirs["data"]["id"] != first["data"]["id"]
    _, _, listing = await stack.call("GET", JOBS)
    assert listing["meta"]["pagination"]["total"] == 1

    batch_headers = {"Idempotency-Key": "batch-1"}
    body = {"jobs": [QUICK] * 3, "concurrency": 1}
    s1, _, b1 = await stack.call("POST", f"{JOBS}/batch", json=body, headers=batch_headers)
    s2, _, b2 = await stack.call("POST", f"{JOBS}/batch", json=body, headers=batch_headers)
    assert s1 == s2 == 201 and b1 == b2
    _, _, listing = await stack.call("GET", JOBS)
    assert listing["meta"]["pagination"]["total"] == 4


async def test_20_concurrent_requests_with_one_key_create_exactly_one_job(stack: Stack) -> None:
    headers = {"Idempotency-Key": "burst"}
    replies = await asyncio.gather(
        *(stack.call("POST", JOBS, json=QUICK, headers=headers) for _ in range(20))
    )
    assert {status for status, _, _ in replies} == {201}
    assert len({body["data"]["id"] for _, _, body in replies}) == 1
    assert sum("Idempotent-Replayed" not in h for _, h, _ in replies) == 1
    _, _, listing = await stack.call("GET", JOBS)
    assert listing["meta"]["pagination"]["total"] == 1


async def test_expired_idempotency_records_are_reused_and_cleaned(stack: Stack) -> None:
    headers = {"Idempotency-Key": "old"}
    _, _, first = await stack.call("POST", JOBS, json=QUICK, headers=headers)
    async with stack.scheduler.pool.acquire() as conn:
        await conn.execute("UPDATE jobs.idempotency SET expires_at = now() - interval '1 s'")
    _, _, second = await stack.call("POST", JOBS, json=QUICK, headers=headers)
    assert second["data"]["id"] != first["data"]["id"]
    async with stack.scheduler.pool.acquire() as conn:
        await conn.execute("UPDATE jobs.idempotency SET expires_at = now() - interval '1 s'")

    async def cleaned() -> bool:
        async with stack.scheduler.pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM jobs.idempotency")) == 0

    await wait_until(cleaned, timeout=10)
    status, _, bad = await stack.call(
        "POST", JOBS, json=QUICK, headers={"Idempotency-Key": "x" * 300}
    )
    assert status == 400 and bad["error"]["details"][0]["field"] == "Idempotency-Key"


async def test_templates_crud_and_deep_merge(stack: Stack) -> None:
    config = {**SPEC, "env": {"A": "1", "B": "2"}, "args": ["x", "y"], "ports": [{"port": 80}]}
    status, _, created = await stack.call(
        "POST", f"{JOBS}/templates", json={"name": "web", "description": "d", "config": config}
    )
    assert status == 201, created
    template = created["data"]
    assert template["id"].startswith("tpl_") and template["config"]["env"] == {"A": "1", "B": "2"}

    overrides = {"env": {"B": "20", "C": "3"}, "args": ["z"], "cpu": 500}
    status, _, job = await stack.call(
        "POST", f"{JOBS}/from-template/{template['id']}", json={"overrides": overrides}
    )
    assert status == 201, job
    detail = await stack.job(job["data"]["id"])
    assert detail["templateId"] == template["id"] and detail["cpu"] == 500
    assert detail["config"]["env"] == {"A": "1", "B": "20", "C": "3"}  # objects merge
    assert detail["config"]["args"] == ["z"]  # arrays replace
    assert detail["config"]["ports"] == [{"port": 80, "expose": False, "protocol": "TCP"}]

    status, _, bad = await stack.call(
        "POST", f"{JOBS}/from-template/{template['id']}", json={"overrides": {"memory": "huge"}}
    )
    assert status == 400 and bad["error"]["details"][0]["field"] == "memory"
    status, _, bad = await stack.call(
        "POST", f"{JOBS}/templates", json={"name": "x", "config": {**SPEC, "cpu": -1}}
    )
    assert status == 400 and bad["error"]["details"][0]["field"] == "config.cpu"

    status, _, updated = await stack.call(
        "PUT", f"{JOBS}/templates/{template['id']}", json={"name": "web2", "config": SPEC}
    )
    assert status == 200 and updated["data"]["name"] == "web2"
    _, _, page = await stack.call("GET", f"{JOBS}/templates?limit=1")
    assert page["meta"]["pagination"]["total"] == 1 and page["data"][0]["name"] == "web2"
    status, _, _ = await stack.call("DELETE", f"{JOBS}/templates/{template['id']}")
    assert status == 200
    for method, path in (
        ("GET", f"{JOBS}/templates/{template['id']}"),
        ("POST", f"{JOBS}/from-template/{template['id']}"),
    ):
        status, _, missing = await stack.call(method, path, json={})
        assert status == 404 and missing["error"]["code"] == "TEMPLATE_NOT_FOUND"


async def test_collection_paths_are_never_read_as_a_job_id(stack: Stack) -> None:
    for path in ("batch", "batches", "templates", "schedules", "from-template"):
        for method in ("GET", "POST", "DELETE"):
            status, _, body = await stack.call(method, f"{JOBS}/{path}", json={})
            assert body["error"]["code"] != "JOB_NOT_FOUND" if status >= 400 else True, (
                method,
                path,
                body,
            )
        status, _, body = await stack.call("POST", f"{JOBS}/{path}/cancel")
        assert status in (404, 405) and body["error"]["code"] != "JOB_ALREADY_ENDED"
    status, _, body = await stack.call("GET", f"{JOBS}/batch")
    assert status == 405 and body["error"]["code"] == "METHOD_NOT_ALLOWED"
