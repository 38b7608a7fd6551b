"""What the scheduler guarantees whatever the network and the relay do twice or late.

Reports are at-least-once and may arrive duplicated or out of order; the outbox may relay
a row twice; a cancel may never be confirmed. None of that may add an event, revive an
ended job, publish an event twice or leave a job cancelling forever.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import PubAck

from contracts import subjects
from contracts.reports import JobReport, ReportGroup, ReportKind
from contracts.timefmt import format_time, parse_time, utcnow
from embedded.nats import NatsServer
from runtime.messaging import call_rpc
from tests.integration.stack import JOBS, Stack, start_stack, stop_stack, wait_until

NETWORK = "akash"
TERMINAL = {"completed", "failed", "cancelled", "expired"}
BLOCKS_PER_HOUR = 3600 / 6.174  # Console's average block time
UACT_PER_USD = 1_000_000  # 1 ACT = 10^6 uact ≈ 1 USD


async def publish_report(
    stack: Stack, job_id: str, kind: ReportKind, msg_id: str | None = None, **fields: Any
) -> PubAck:
    """Publish a hand-made report as a provider would (`Nats-Msg-Id` = its dedupe id)."""
    fields.setdefault("at", format_time(utcnow()) or "")
    report = JobReport(job_id=job_id, network=NETWORK, kind=kind, **fields)
    ack: PubAck = await stack.scheduler.js.publish(
        subjects.job_report(NETWORK, job_id, "status"),
        report.model_dump_json(by_alias=True).encode(),
        headers={"Nats-Msg-Id": msg_id or report.dedupe_id},
    )
    return ack


async def reports_applied(stack: Stack) -> None:
    """Wait until the scheduler applied and acked every report (REPORTS is a work queue)."""

    async def empty() -> bool:
        info = await stack.scheduler.js.stream_info(subjects.REPORTS_STREAM)
        return info.state.messages == 0

    await wait_until(empty, timeout=10)


async def outbox_rows(stack: Stack) -> int:
    count: int = await stack.scheduler.pool.fetchval("SELECT count(*) FROM jobs.outbox")
    return count


async def outbox_relayed(stack: Stack) -> None:
    async def empty() -> bool:
        return await outbox_rows(stack) == 0

    await wait_until(empty, timeout=10)


async def lease(stack: Stack, job_id: str) -> tuple[Any, Any]:
    """The (hourly rate, billing start) the scheduler bills this job by."""
    row = await stack.scheduler.pool.fetchrow(
        "SELECT hourly_rate_usd, billing_started_at FROM jobs.jobs WHERE id = $1", job_id
    )
    return row["hourly_rate_usd"], row["billing_started_at"]


async def read_job_events(nats_url: str) -> list[tuple[str, str, bytes]]:
    """Every message of the EVENTS stream as (subject, Nats-Msg-Id, payload), in order."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info(subjects.EVENTS_STREAM)).state.messages
        # The stream also holds provider events: read everything, keep the job events.
        sub = await js.subscribe("cortex.events.>", ordered_consumer=True)
        found: list[tuple[str, str, bytes]] = []
        async with asyncio.timeout(10):
            for _ in range(total):
                msg = await sub.next_msg(timeout=5)
                if msg.subject.startswith("cortex.events.job."):
                    headers = msg.headers or {}
                    found.append((msg.subject, headers.get("Nats-Msg-Id", ""), msg.data))
        await sub.unsubscribe()
        return found
    finally:
        await nc.close()


def types(job: dict[str, Any]) -> list[str]:
    return [e["type"] for e in job["events"]]


def ended(job: dict[str, Any]) -> list[str]:
    return [t for t in types(job) if t in TERMINAL]


async def test_duplicate_and_out_of_order_reports_are_harmless(stack: Stack) -> None:
    """A replayed `started`, a late `scheduled` and a `completed` after a cancel change nothing."""
    job_id = (await stack.submit(command=["sleep", "30"]))["id"]
    running = await stack.wait_for(job_id, {"running"})
    assert types(running) == ["created", "scheduled", "started"], running
    billed_by = await lease(stack, job_id)

    # A single report sent twice (same dedupe id, new report id): JetStream drops the second.
    ack = await publish_report(stack, job_id, ReportKind.STARTED)
    assert not ack.duplicate, ack  # providers send groups, without a dedupe id
    ack = await publish_report(stack, job_id, ReportKind.STARTED)
    assert ack.duplicate, ack
    # A different Nats-Msg-Id gets past JetStream: the transition table must drop it.
    ack = await publish_report(
        stack, job_id, ReportKind.STARTED, msg_id=f"{job_id}:started:replayed"
    )
    assert not ack.duplicate, ack
    # `scheduled` after `started`, at another price: must not re-price the running lease.
    await publish_report(
        stack,
        job_id,
        ReportKind.SCHEDULED,
        msg_id=f"{job_id}:scheduled:late",
        hourly_rate_usd=999.0,
        details={"bidPrice": "999999 uact/block"},
    )
    await reports_applied(stack)

    after = await stack.job(job_id)
    assert after["status"] == "running"
    assert types(after) == ["created", "scheduled", "started"]
    assert after["events"] == running["events"]
    assert after["startedAt"] == running["startedAt"]
    assert await lease(stack, job_id) == billed_by

    status, _, _ = await stack.call("POST", f"{JOBS}/{job_id}/cancel")
    assert status == 200
    cancelled = await stack.wait_for(job_id, {"cancelled"})
    assert ended(cancelled) == ["cancelled"], types(cancelled)
    await reports_applied(stack)  # the network's own `released` included

    ack = await publish_report(stack, job_id, ReportKind.COMPLETED, exit_code=0)
    assert not ack.duplicate, ack  # the network reported `released`, never `completed`
    await reports_applied(stack)
    assert await stack.job(job_id) == cancelled


async def test_a_terminal_job_ignores_later_reports(stack: Stack) -> None:
    """A completed job stays completed, events and all, when a `failed` report arrives."""
    job_id = (await stack.submit(command=["true"]))["id"]
    done = await stack.wait_for(job_id, {"completed", "failed"})
    assert done["status"] == "completed", done
    await reports_applied(stack)

    ack = await publish_report(
        stack, job_id, ReportKind.FAILED, exit_code=1, reason="container exited with code 1"
    )
    assert not ack.duplicate  # it does reach the scheduler
    await reports_applied(stack)
    assert await stack.job(job_id) == done


async def test_a_cancel_the_network_never_confirms_ends_after_the_timeout(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    """With the provider deaf to work, a cancel still ends as `cancelled`, marked timed out."""
    stack = await start_stack(nats_server.url, database_url, tmp_path, cancel_timeout=1.0)
    try:
        job_id = (await stack.submit(command=["sleep", "30"]))["id"]
        await stack.wait_for(job_id, {"running"})
        await stack.akash.work.stop()  # cancel work is never taken, so never confirmed

        status, _, body = await stack.call("POST", f"{JOBS}/{job_id}/cancel")
        assert status == 200 and body["data"]["status"] == "cancelling"
        done = await stack.wait_for(job_id, {"cancelled", "completed", "failed"}, timeout=10)

        assert done["status"] == "cancelled", done
        assert ended(done) == ["cancelled"]
        requested, last = done["events"][-2], done["events"][-1]
        assert requested["type"] == "cancel_requested"
        assert last["type"] == "cancelled" and last["timedOut"] is True, last
        assert "did not confirm" in done["reason"], done["reason"]
        waited = parse_time(last["timestamp"]) - parse_time(requested["timestamp"])
        assert waited.total_seconds() >= 1.0
        # The network really never released it: this is the timeout path, not a release.
        assert (await stack.devnet_state())["deployments"]
    finally:
        await stop_stack(stack)


async def test_the_outbox_publishes_each_event_once_even_when_relayed_twice(
    stack: Stack, nats_server: NatsServer
) -> None:
    """Re-inserted outbox rows (same msg_id) are relayed again but never land twice."""
    ids = [(await stack.submit(command=["true"]))["id"] for _ in range(3)]
    for job_id in ids:
        await stack.wait_for(job_id, {"completed", "failed"})
    await outbox_relayed(stack)
    published = await read_job_events(nats_server.url)
    assert len(published) >= 4 * len(ids)

    inserted = await stack.scheduler.pool.execute(
        "INSERT INTO jobs.outbox (subject, msg_id, payload, headers) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])",
        [subject for subject, _, _ in published],
        [msg_id for _, msg_id, _ in published],
        [payload for _, _, payload in published],
        [{} for _ in published],
    )
    assert inserted == f"INSERT 0 {len(published)}"
    stack.scheduler.relay.wake()
    await outbox_relayed(stack)

    again = await read_job_events(nats_server.url)
    event_ids = [json.loads(payload)["id"] for _, _, payload in again]
    assert len(event_ids) == len(set(event_ids)), "an event was published twice"
    assert again == published
    recorded = await stack.scheduler.pool.fetch("SELECT id FROM jobs.job_events")
    assert sorted(event_ids) == sorted(r["id"] for r in recorded)


async def test_final_cost_is_the_bid_rate_over_the_lease_time(stack: Stack) -> None:
    """`cost.final` = bid price per block × blocks per hour ÷ 10^6 × hours leased."""
    job_id = (await stack.submit(cpu=4000, memory="4Gi", command=["sh", "-c", "sleep 1"]))["id"]
    done = await stack.wait_for(job_id, {"completed", "failed"})
    assert done["status"] == "completed", done

    scheduled = next(e for e in done["events"] if e["type"] == "scheduled")
    amount, unit = scheduled["bidPrice"].split(" ")
    assert unit == "uact/block", scheduled
    hourly_usd = float(amount) * BLOCKS_PER_HOUR / UACT_PER_USD
    leased = parse_time(done["endedAt"]) - parse_time(scheduled["timestamp"])
    expected = hourly_usd * leased.total_seconds() / 3600

    final = done["cost"]["final"]
    assert final > 0 and final == done["cost"]["current"], done["cost"]
    assert math.isclose(final, expected, rel_tol=0.05, abs_tol=1e-6), (final, expected)


async def test_coalesced_creates_are_answered_one_by_one(stack: Stack) -> None:
    """One bad create in a `create_many` fails alone; its neighbours are recorded."""
    good = {"provider": "akash", "image": "alpine:3.20", "cpu": 100, "memory": "32Mi",
            "storage": "64Mi", "duration": 60, "command": ["true"]}  # fmt: skip
    jobs = [
        {"jobId": "job_coalesced_good_1", "tenant": "default", "spec": good},
        {"jobId": "job_coalesced_bad", "tenant": "default", "spec": {**good, "memory": "lots"}},
        {"jobId": "job_coalesced_good_2", "tenant": "default", "spec": good},
    ]
    results = await call_rpc(stack.gateway.nc, subjects.RPC_JOB_CREATE_MANY, {"jobs": jobs})
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["error"]["code"] == "VALIDATION_ERROR"
    assert results[0]["data"]["id"] == "job_coalesced_good_1"
    status, _, body = await stack.call("GET", f"{JOBS}/job_coalesced_bad")
    assert status == 404, body
    for job_id in ("job_coalesced_good_1", "job_coalesced_good_2"):
        await stack.wait_for(job_id, {"completed"})


async def test_a_report_that_cannot_be_applied_does_not_hold_back_its_burst(
    stack: Stack,
) -> None:
    """Reports are applied a fetched burst per transaction; one that fails spoils nothing:
    the burst is all or nothing, then applied one by one, so the others still land."""
    job_id = (await stack.submit(command=["sleep", "30"]))["id"]
    running = await stack.wait_for(job_id, {"running"})
    at = format_time(utcnow()) or ""
    poison = JobReport(job_id=job_id, network=NETWORK, kind=ReportKind.FAILED, at="not a time")
    good = JobReport(job_id=job_id, network=NETWORK, kind=ReportKind.COMPLETED, at=at, exit_code=0)

    with pytest.raises(ValueError):
        await stack.scheduler.scheduler.apply_reports([poison, good])
    # cost.current grows with the running time, so it is the one field left out.
    after = await stack.job(job_id)
    assert _without_accrual(after) == _without_accrual(running), "a failed burst leaves nothing"

    await publish_report(stack, job_id, ReportKind.FAILED, msg_id="poison", at="not a time")
    await publish_report(stack, job_id, ReportKind.COMPLETED, msg_id="good", exit_code=0)
    done = await stack.wait_for(job_id, {"completed", "failed"})
    assert done["status"] == "completed" and done["results"]["exitCode"] == 0, done


async def test_a_report_group_applies_each_report_and_isolates_a_bad_one(stack: Stack) -> None:
    """Providers send a burst of reports as one message: each report lands; a malformed one
    is dropped and one that cannot be applied holds back none of its group-mates."""
    first = (await stack.submit(command=["sleep", "30"]))["id"]
    second = (await stack.submit(command=["sleep", "30"]))["id"]
    for job_id in (first, second):
        await stack.wait_for(job_id, {"running"})
    at = format_time(utcnow()) or ""

    def item(job_id: str, kind: ReportKind, **fields: Any) -> dict[str, Any]:
        report = JobReport(job_id=job_id, network=NETWORK, kind=kind, **fields)
        return report.model_dump(mode="json", by_alias=True)

    group = ReportGroup(
        reports=[
            {"jobId": first, "kind": "exploded"},  # malformed: dropped
            item(first, ReportKind.FAILED, at="not a time"),  # cannot be applied
            item(first, ReportKind.COMPLETED, at=at, exit_code=0),
            item(second, ReportKind.COMPLETED, at=at, exit_code=3),
        ]
    )
    await stack.scheduler.js.publish(
        subjects.report_group(NETWORK), group.model_dump_json(by_alias=True).encode()
    )

    done = [await stack.wait_for(job_id, TERMINAL) for job_id in (first, second)]
    assert [(j["status"], j["results"]["exitCode"]) for j in done] == [
        ("completed", 0),
        ("completed", 3),
    ], done
    assert [ended(j) for j in done] == [["completed"], ["completed"]]


def _without_accrual(job: dict[str, Any]) -> dict[str, Any]:
    """The job as the API shows it, minus the cost accrued so far."""
    return {**job, "cost": {**job["cost"], "current": None}}
