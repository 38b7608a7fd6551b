"""Cron schedules: validation, CRUD, and one job per due time with two schedulers and a restart."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from cortex_scheduler.bootstrap import SchedulerService
from tests.integration.stack import JOBS, SPEC, Stack

EVERY_SECOND = "* * * * * *"  # croniter's 6-field form: seconds last
QUICK = {**SPEC, "command": ["true"]}


async def runs(stack: Stack, schedule_id: str) -> tuple[list[datetime], list[str]]:
    """(due times that fired, ids of the jobs carrying the schedule's id)."""
    # One snapshot for both reads: the schedule keeps firing every second meanwhile.
    async with (
        stack.scheduler.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        due = await conn.fetch(
            "SELECT due_at FROM jobs.schedule_runs WHERE schedule_id = $1 ORDER BY due_at",
            schedule_id,
        )
        jobs = await conn.fetch("SELECT id FROM jobs.jobs WHERE schedule_id = $1", schedule_id)
    return [r["due_at"] for r in due], [r["id"] for r in jobs]


def assert_every_second_once(due: list[datetime], job_ids: list[str]) -> None:
    assert len(job_ids) == len(due) == len(set(due))
    assert due == [due[0] + timedelta(seconds=i) for i in range(len(due))], due  # no gaps


async def test_schedule_validation_and_crud(stack: Stack) -> None:
    bad = {"name": "n", "cron": "61 * * * *", "timezone": "Mars/Olympus", "config": QUICK}
    status, _, body = await stack.call("POST", f"{JOBS}/schedules", json=bad)
    assert status == 400
    assert {d["field"] for d in body["error"]["details"]} == {"cron", "timezone"}
    status, _, body = await stack.call(
        "POST", f"{JOBS}/schedules", json={"name": "n", "cron": "0 3 * * *"}
    )
    assert status == 400 and body["error"]["details"][0]["field"] == "templateId"
    status, _, body = await stack.call(
        "POST",
        f"{JOBS}/schedules",
        json={"name": "n", "cron": "0 3 * * *", "templateId": "tpl_missing"},
    )
    assert status == 404 and body["error"]["code"] == "TEMPLATE_NOT_FOUND"

    nightly = {"name": "nightly", "cron": "0 3 * * *", "timezone": "Europe/Berlin", "config": QUICK}
    status, _, created = await stack.call("POST", f"{JOBS}/schedules", json=nightly)
    assert status == 201, created
    schedule = created["data"]
    assert schedule["nextRunAt"].endswith(("01:00:00Z", "02:00:00Z"))  # 03:00 in Berlin
    schedule_id = schedule["id"]
    status, _, paused = await stack.call("POST", f"{JOBS}/schedules/{schedule_id}/pause")
    assert paused["data"]["paused"] is True and paused["data"]["nextRunAt"] is None
    status, _, resumed = await stack.call("POST", f"{JOBS}/schedules/{schedule_id}/resume")
    assert resumed["data"]["paused"] is False and resumed["data"]["nextRunAt"]
    status, _, updated = await stack.call(
        "PUT", f"{JOBS}/schedules/{schedule_id}", json={**nightly, "cron": "30 4 * * 1"}
    )
    assert status == 200 and updated["data"]["cron"] == "30 4 * * 1"
    _, _, page = await stack.call("GET", f"{JOBS}/schedules")
    assert [s["id"] for s in page["data"]] == [schedule_id]
    status, _, _ = await stack.call("DELETE", f"{JOBS}/schedules/{schedule_id}")
    status, _, body = await stack.call("GET", f"{JOBS}/schedules/{schedule_id}")
    assert status == 404 and body["error"]["code"] == "SCHEDULE_NOT_FOUND"


async def test_each_due_time_fires_once_with_two_schedulers_and_across_a_restart(
    stack: Stack,
) -> None:
    second = SchedulerService(stack.scheduler.settings.model_copy())
    await second.start()
    try:
        _, _, template = await stack.call(
            "POST", f"{JOBS}/templates", json={"name": "t", "config": {**QUICK, "env": {"A": "1"}}}
        )
        template_id = template["data"]["id"]
        status, _, created = await stack.call(
            "POST",
            f"{JOBS}/schedules",
            json={
                "name": "every second",
                "cron": EVERY_SECOND,
                "templateId": template_id,
                "overrides": {"env": {"B": "2"}},
            },
        )
        assert status == 201, created
        schedule_id = created["data"]["id"]
        await asyncio.sleep(4.5)
        due, job_ids = await runs(stack, schedule_id)
        assert len(due) >= 3
        assert_every_second_once(due, job_ids)
        job = await stack.job(job_ids[0])
        assert job["scheduleId"] == schedule_id and job["templateId"] == template_id
        assert job["config"]["env"] == {"A": "1", "B": "2"}
        _, _, listing = await stack.call("GET", f"{JOBS}?schedule={schedule_id}&limit=100")
        assert listing["meta"]["pagination"]["total"] == len(job_ids)
    finally:
        await second.stop()

    # Both schedulers down for 3 s: the missed due times are caught up once each on restart.
    settings = stack.scheduler.settings
    await stack.scheduler.stop()
    await asyncio.sleep(3)
    stack.scheduler = SchedulerService(settings)
    await stack.scheduler.start()
    await asyncio.sleep(2)
    due, job_ids = await runs(stack, schedule_id)
    assert_every_second_once(due, job_ids)
    assert due[-1] >= datetime.now(due[-1].tzinfo) - timedelta(seconds=2)
