"""One transaction: job changes plus the outbox rows that announce them."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction

from contracts import subjects
from contracts.events import envelope, new_event_id
from contracts.status import JobEventType
from contracts.timefmt import utcnow
from cortex_scheduler.adapters.outbox import Committed, OutboxMessage, enqueue
from cortex_scheduler.adapters.repository import JobRepository
from cortex_scheduler.adapters.resources import (
    BatchRepository,
    IdempotencyRepository,
    ScheduleRepository,
    TemplateRepository,
)
from cortex_scheduler.domain import views
from cortex_scheduler.domain.model import Job, JobEvent
from cortex_scheduler.service_layer.batches import admit
from runtime import codec
from runtime.tracing import TENANT_HEADER, headers_for


class UnitOfWork:
    """`async with uow:` opens a transaction; `commit()` writes the outbox and commits."""

    def __init__(self, pool: asyncpg.Pool, on_commit: Callable[[Committed], None]) -> None:
        self._pool = pool
        self._on_commit = on_commit
        self._conn: Any = None
        self._tx: Transaction | None = None
        self._messages: list[OutboxMessage] = []
        # Batches one of whose jobs ended here: their free slots are filled before commit.
        self._ended_in_batches: set[str] = set()
        self.jobs: JobRepository
        self.batches: BatchRepository
        self.templates: TemplateRepository
        self.schedules: ScheduleRepository
        self.idempotency: IdempotencyRepository

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._pool.acquire()
        self._tx = self._conn.transaction()
        await self._tx.start()
        self.jobs = JobRepository(self._conn)
        self.batches = BatchRepository(self._conn)
        self.templates = TemplateRepository(self._conn)
        self.schedules = ScheduleRepository(self._conn)
        self.idempotency = IdempotencyRepository(self._conn)
        self._messages = []
        self._ended_in_batches = set()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None:
                await _rollback(self._tx, propagating=exc is not None)
        finally:
            await self._pool.release(self._conn)
            self._tx = None

    async def commit(self) -> None:
        assert self._tx is not None
        # Admission in the transaction that ends the job: the batch's limit can never be
        # exceeded, whatever replica or crash (sorted: batch row locks in one order).
        for batch_id in sorted(self._ended_in_batches):
            await admit(self, batch_id)
        self._ended_in_batches.clear()
        committed = await enqueue(self._conn, self._messages)
        await self._tx.commit()
        self._tx = None
        if committed:
            self._on_commit(committed)

    def announce(self, job: Job, event: JobEvent, request_id: str | None = None) -> None:
        """Queue the public event `job.<type>` for a recorded job event."""
        if job.batch_id is not None and job.status.is_terminal and is_terminal_event(event.type):
            self._ended_in_batches.add(job.batch_id)
        data = {"job": views.detail(job, utcnow()), "event": views.event_view(event)}
        self._messages.append(
            OutboxMessage(
                subject=subjects.job_event(job.id, event.type.value),
                msg_id=event.id,
                payload=codec.dumps(envelope(event.id, f"job.{event.type.value}", event.at, data)),
                headers={**headers_for(request_id, job.id), TENANT_HEADER: job.tenant},
            )
        )

    def announce_resource(
        self, kind: str, resource_id: str, tenant: str, event_type: str, data: dict[str, Any]
    ) -> None:
        """Queue a public `batch.*`, `template.*` or `schedule.*` event."""
        event_id = new_event_id()
        self._messages.append(
            OutboxMessage(
                subject=subjects.resource_event(kind, resource_id, event_type),
                msg_id=event_id,
                payload=codec.dumps(envelope(event_id, event_type, utcnow(), data)),
                headers={**headers_for(None), TENANT_HEADER: tenant},
            )
        )

    def send_deploy(self, job: Job, request_id: str | None = None) -> None:
        """Queue the job's deploy work (DeployWork's wire form, built directly: hot path)."""
        work = {"jobId": job.id, "tenant": job.tenant, "spec": job.spec, "requestId": request_id}
        self.send_work(job.provider, "deploy", job.id, work, request_id)

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


async def _rollback(tx: Transaction, propagating: bool) -> None:
    try:
        await tx.rollback()
    except asyncpg.InterfaceError:
        # The commit itself failed or was interrupted (a cancel mid-commit): asyncpg refuses
        # the rollback, and the pool resets the connection on release. The error that got us
        # here must go on, above all a cancellation: replaced by this one, it kept a stopping
        # service's background loop alive forever.
        if not propagating:
            raise
