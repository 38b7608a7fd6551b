"""Publish job reports to the scheduler (stream REPORTS), retried until JetStream acks them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from nats.aio.client import Client as NATS

from contracts import subjects
from contracts.reports import JobReport, ReportKind
from contracts.timefmt import format_time, utcnow
from runtime.background import stop_if_cancelled
from runtime.group_commit import GroupCommit
from runtime.logging import get_logger
from runtime.messaging import BatchPublisher, Outgoing
from runtime.tracing import headers_for

log = get_logger(__name__)


class Reporter:
    def __init__(self, nc: NATS, network: str) -> None:
        self._network = network
        self._publisher = BatchPublisher(nc)
        # Reports of many deployments at once go out pipelined, their acks awaited together;
        # a failed group is retried by each report's own loop, not split (a broker that does
        # not answer would time out once per report, one after another).
        self._outgoing: GroupCommit[Outgoing] = GroupCommit(
            self._publisher.publish, split_failures=False
        )

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
                await self._outgoing.submit((subject, payload, headers))
                log.info("report.sent", job_id=job_id, kind=kind.value)
                return
            except Exception as exc:
                stop_if_cancelled()
                attempt += 1
                log.warning("report.retry", job_id=job_id, kind=kind.value, error=str(exc))
                await asyncio.sleep(min(5.0, 0.1 * 2**attempt))
