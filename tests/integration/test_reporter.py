"""Reporter on a real NATS server: a burst of reports goes out as few messages, in order."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client as NATS

from contracts import subjects
from contracts.reports import ReportGroup, ReportKind
from provider_runtime.reporter import MAX_GROUP, Reporter


async def test_concurrent_reports_share_messages_and_keep_their_order(nats_client: NATS) -> None:
    js = nats_client.jetstream()
    reporter = Reporter(nats_client, "akash")
    jobs = [f"job_{n:03d}" for n in range(MAX_GROUP + 50)]

    async def lifecycle(job_id: str) -> None:
        for kind in (ReportKind.SCHEDULED, ReportKind.STARTED, ReportKind.COMPLETED):
            await reporter.report(job_id, kind, exit_code=0 if kind == "completed" else None)

    await asyncio.gather(*(lifecycle(job_id) for job_id in jobs))

    reader = await js.pull_subscribe(subjects.report_group("akash"), durable="test-reader")
    messages = await reader.fetch(1000, timeout=2)
    assert all(subjects.is_report_group(m.subject) for m in messages)
    assert len(messages) < len(jobs), "a burst shares messages"
    seen: dict[str, list[str]] = {}
    for msg in messages:
        group = ReportGroup.model_validate_json(msg.data)
        assert len(group.reports) <= MAX_GROUP
        reports, malformed = group.parse_items()
        assert malformed == 0
        for report in reports:
            seen.setdefault(report.job_id, []).append(report.kind.value)
    assert seen == {job_id: ["scheduled", "started", "completed"] for job_id in jobs}
