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
        for msg in messages:
            bind_from_headers(msg.headers)
            try:
                report = JobReport.model_validate_json(msg.data)
            except ValueError:
                log.error("reports.malformed", subject=msg.subject)
                await msg.term()
                continue
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
