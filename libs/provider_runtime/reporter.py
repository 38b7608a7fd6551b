"""Publish job reports to the scheduler (stream REPORTS), retried until JetStream acks them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from nats.aio.client import Client as NATS

from contracts import subjects
from contracts.reports import JobReport, ReportGroup, ReportKind
from contracts.timefmt import format_time, utcnow
from runtime.background import stop_if_cancelled
from runtime.group_commit import GroupCommit
from runtime.logging import get_logger
from runtime.messaging import BatchPublisher, Outgoing

log = get_logger(__name__)


MAX_GROUP = 200  # reports per message: ~60 kB, well under NATS's 1 MB payload limit


class Reporter:
    def __init__(self, nc: NATS, network: str) -> None:
        self._network = network
        self._subject = subjects.report_group(network)
        self._publisher = BatchPublisher(nc)
        # Reports of many deployments at once go out as one message per group (ReportGroup),
        # its ack awaited by all; a failed group is retried by each report's own loop, not
        # split (a broker that does not answer would time out once per report, in turn).
        self._outgoing: GroupCommit[JobReport] = GroupCommit(self._publish, split_failures=False)

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
        attempt = 0
        while True:
            try:
                await self._outgoing.submit(report)
                log.info("report.sent", job_id=job_id, kind=kind.value)
                return
            except Exception as exc:
                stop_if_cancelled()
                attempt += 1
                log.warning("report.retry", job_id=job_id, kind=kind.value, error=str(exc))
                await asyncio.sleep(min(5.0, 0.1 * 2**attempt))

    async def _publish(self, reports: list[JobReport]) -> None:
        """No `Nats-Msg-Id`: a retried report may ride in a different group, so JetStream
        could not tell; the scheduler's transition table drops repeats instead."""
        messages: list[Outgoing] = [
            (self._subject, ReportGroup.encode(reports[i : i + MAX_GROUP]), {})
            for i in range(0, len(reports), MAX_GROUP)
        ]
        await self._publisher.publish(messages)
