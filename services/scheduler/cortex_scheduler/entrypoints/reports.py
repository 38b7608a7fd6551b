"""Consume provider reports (stream REPORTS) with a durable pull consumer; ack after commit."""

from __future__ import annotations

import asyncio
import contextlib

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from contracts import subjects
from contracts.reports import JobReport
from cortex_scheduler.service_layer.handlers import Scheduler
from runtime.logging import get_logger
from runtime.tracing import bind_from_headers

log = get_logger(__name__)
DURABLE = "scheduler-reports"


class ReportConsumer:
    def __init__(self, js: JetStreamContext, scheduler: Scheduler, batch: int) -> None:
        self._js, self._scheduler, self._batch = js, scheduler, batch
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._sub = await self._js.pull_subscribe(
            subjects.REPORTS_SUBJECTS,
            durable=DURABLE,
            stream=subjects.REPORTS_STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=1000),
        )
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish the batch in hand, then stop; unacked messages are redelivered later."""
        self._stopping = True
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                messages = await self._sub.fetch(self._batch, timeout=0.5)
            except NatsTimeoutError:
                continue
            except Exception:
                log.exception("reports.fetch_failed")
                await asyncio.sleep(0.5)
                continue
            for msg in messages:
                bind_from_headers(msg.headers)
                try:
                    report = JobReport.model_validate_json(msg.data)
                except ValueError:
                    log.error("reports.malformed", subject=msg.subject)
                    await msg.term()
                    continue
                try:
                    await self._scheduler.apply_report(report)
                except Exception:
                    log.exception("reports.apply_failed", job_id=report.job_id)
                    await msg.nak(delay=1)
                    continue
                await msg.ack()
