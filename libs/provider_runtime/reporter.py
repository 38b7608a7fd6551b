"""Publish job reports to the scheduler (stream REPORTS), retried until JetStream acks them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import JobReport, ReportKind
from contracts.timefmt import format_time, utcnow
from runtime.logging import get_logger
from runtime.tracing import headers_for

log = get_logger(__name__)


class Reporter:
    def __init__(self, js: JetStreamContext, network: str) -> None:
        self._js, self._network = js, network

    async def report(
        self, job_id: str, kind: ReportKind, at: datetime | None = None, **fields: Any
    ) -> None:
        """`at`: when it happened on the network, if the network says (else now)."""
        report = JobReport(
            job_id=job_id,
            network=self._network,
            kind=kind,
            at=format_time(at or utcnow()) or "",
            **fields,
        )
        subject = subjects.job_report(self._network, job_id, "status")
        headers = {**headers_for(job_id=job_id), "Nats-Msg-Id": report.dedupe_id}
        payload = report.model_dump_json(by_alias=True).encode()
        attempt = 0
        while True:
            try:
                await self._js.publish(subject, payload, headers=headers, timeout=5)
                log.info("report.sent", job_id=job_id, kind=kind.value)
                return
            except Exception as exc:
                attempt += 1
                log.warning("report.retry", job_id=job_id, kind=kind.value, error=str(exc))
                await asyncio.sleep(min(5.0, 0.1 * 2**attempt))
