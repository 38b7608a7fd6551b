"""One transaction: job changes plus the outbox rows that announce them."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction

from contracts import subjects
from contracts.events import envelope
from contracts.status import JobEventType
from contracts.timefmt import utcnow
from cortex_scheduler.adapters.outbox import OutboxMessage, enqueue
from cortex_scheduler.adapters.repository import JobRepository
from cortex_scheduler.domain import views
from cortex_scheduler.domain.model import Job, JobEvent
from runtime import codec
from runtime.tracing import TENANT_HEADER, headers_for


class UnitOfWork:
    """`async with uow:` opens a transaction; `commit()` writes the outbox and commits."""

    def __init__(self, pool: asyncpg.Pool, on_commit: Callable[[], None]) -> None:
        self._pool = pool
        self._on_commit = on_commit
        self._conn: Any = None
        self._tx: Transaction | None = None
        self._messages: list[OutboxMessage] = []
        self.jobs: JobRepository

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._pool.acquire()
        self._tx = self._conn.transaction()
        await self._tx.start()
        self.jobs = JobRepository(self._conn)
        self._messages = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None:
                await self._tx.rollback()
        finally:
            await self._pool.release(self._conn)
            self._tx = None

    async def commit(self) -> None:
        assert self._tx is not None
        await enqueue(self._conn, self._messages)
        await self._tx.commit()
        self._tx = None
        if self._messages:
            self._on_commit()

    def announce(self, job: Job, event: JobEvent, request_id: str | None = None) -> None:
        """Queue the public event `job.<type>` for a recorded job event."""
        data = {"job": views.detail(job, utcnow()), "event": views.event_view(event)}
        self._messages.append(
            OutboxMessage(
                subject=subjects.job_event(job.id, event.type.value),
                msg_id=event.id,
                payload=codec.dumps(envelope(event.id, f"job.{event.type.value}", event.at, data)),
                headers={**headers_for(request_id, job.id), TENANT_HEADER: job.tenant},
            )
        )

    def send_work(
        self,
        network: str,
        verb: str,
        job_id: str,
        body: dict[str, Any],
        request_id: str | None = None,
    ) -> None:
        """Queue work for a provider service; `<jobId>:<verb>` makes re-sending harmless."""
        self._messages.append(
            OutboxMessage(
                subject=subjects.provider_work(network, verb),
                msg_id=f"{job_id}:{verb}",
                payload=codec.dumps(body),
                headers=headers_for(request_id, job_id),
            )
        )


def is_terminal_event(event: JobEventType) -> bool:
    return event in {
        JobEventType.COMPLETED,
        JobEventType.FAILED,
        JobEventType.EXPIRED,
        JobEventType.CANCELLED,
    }
