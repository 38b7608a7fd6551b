"""Consume provider reports (stream REPORTS) with a durable pull consumer; ack after commit."""

from __future__ import annotations

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import JobReport, ReportGroup
from cortex_scheduler.service_layer.handlers import Scheduler
from runtime.consumer import PullConsumer
from runtime.logging import get_logger
from runtime.tracing import bind_from_headers

log = get_logger(__name__)
DURABLE = "scheduler-reports"


def report_consumer(js: JetStreamContext, scheduler: Scheduler, batch: int) -> PullConsumer:
    async def apply(messages: list[Msg]) -> None:
        parsed: list[tuple[Msg, list[JobReport]]] = []
        for msg in messages:
            reports = _reports_in(msg)
            if reports:
                parsed.append((msg, reports))
            else:
                await msg.term()
        if not parsed:
            return
        try:
            await scheduler.apply_reports([report for _, reports in parsed for report in reports])
        except Exception:
            # One report (or a lock conflict) spoiled the burst: apply them one by one, so
            # only what really fails waits for redelivery.
            log.warning("reports.burst_failed", messages=len(parsed), exc_info=True)
            await apply_one_by_one(parsed)
            return
        for msg, _ in parsed:
            await msg.ack()

    async def apply_one_by_one(parsed: list[tuple[Msg, list[JobReport]]]) -> None:
        for msg, reports in parsed:
            bind_from_headers(msg.headers)
            failed = False
            for report in reports:
                try:
                    await scheduler.apply_report(report)
                except Exception:
                    log.exception("reports.apply_failed", job_id=report.job_id)
                    failed = True
            if failed:
                # Its group-mates are applied; redelivered, they are repeats the transition
                # table drops, and only the failed report is tried again.
                await msg.nak(delay=1)
            else:
                await msg.ack()

    return PullConsumer(
        js, subjects.REPORTS_STREAM, subjects.REPORTS_SUBJECTS, DURABLE, apply, batch
    )


def _reports_in(msg: Msg) -> list[JobReport]:
    """A group's well-formed reports, or a single report (the form before groups); malformed
    ones are logged and dropped: no redelivery can mend them."""
    try:
        if subjects.is_report_group(msg.subject):
            reports, malformed = ReportGroup.model_validate_json(msg.data).parse_items()
        else:
            reports, malformed = [JobReport.model_validate_json(msg.data)], 0
    except ValueError:
        reports, malformed = [], 1
    if malformed:
        log.error("reports.malformed", subject=msg.subject, malformed=malformed)
    return reports
