"""Consume provider reports (stream REPORTS) with a durable pull consumer; ack after commit."""

from __future__ import annotations

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import JobReport
from cortex_scheduler.service_layer.handlers import Scheduler
from runtime.consumer import PullConsumer
from runtime.logging import get_logger
from runtime.tracing import bind_from_headers

log = get_logger(__name__)
DURABLE = "scheduler-reports"


def report_consumer(js: JetStreamContext, scheduler: Scheduler, batch: int) -> PullConsumer:
    async def apply(messages: list[Msg]) -> None:
        parsed: list[tuple[Msg, JobReport]] = []
        for msg in messages:
            try:
                parsed.append((msg, JobReport.model_validate_json(msg.data)))
            except ValueError:
                log.error("reports.malformed", subject=msg.subject)
                await msg.term()
        if not parsed:
            return
        try:
            await scheduler.apply_reports([report for _, report in parsed])
        except Exception:
            # One report (or a lock conflict) spoiled the burst: apply them one by one, so
            # only what really fails waits for redelivery.
            log.warning("reports.burst_failed", reports=len(parsed), exc_info=True)
            await apply_one_by_one(parsed)
            return
        for msg, _ in parsed:
            await msg.ack()

    async def apply_one_by_one(parsed: list[tuple[Msg, JobReport]]) -> None:
        for msg, report in parsed:
            bind_from_headers(msg.headers)
            try:
                await scheduler.apply_report(report)
            except Exception:
                log.exception("reports.apply_failed", job_id=report.job_id)
                await msg.nak(delay=1)
                continue
            await msg.ack()

    return PullConsumer(
        js, subjects.REPORTS_STREAM, subjects.REPORTS_SUBJECTS, DURABLE, apply, batch
    )
