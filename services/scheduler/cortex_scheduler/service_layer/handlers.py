"""The scheduler's use cases: create, read, cancel, apply reports, enforce time limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from contracts.errors import ApiError, ErrorCode
from contracts.events import BATCH_CANCELLED, BATCH_CREATED
from contracts.job import JobSpec, SpecLimits
from contracts.reports import CancelWork, JobReport, ReportKind
from contracts.status import JobEventType, JobStatus, can_transition
from contracts.timefmt import parse_time, utcnow
from cortex_scheduler.adapters.outbox import Committed
from cortex_scheduler.adapters.prices import PriceBook
from cortex_scheduler.adapters.repository import JobQuery, JobRepository
from cortex_scheduler.domain import views
from cortex_scheduler.domain.model import Job
from cortex_scheduler.domain.resources import Batch, batch_view
from cortex_scheduler.service_layer.unit_of_work import UnitOfWork
from runtime.logging import get_logger

log = get_logger(__name__)
AskProvider = Callable[[str, str, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class CreateRequest:
    job_id: str
    tenant: str
    spec: JobSpec
    request_id: str | None = None
    # The spec's JSON form when the caller already has it (the gateway sends exactly that).
    spec_json: dict[str, Any] | None = None
    template_id: str | None = None
    schedule_id: str | None = None


@dataclass(frozen=True)
class IdempotencyKey:
    """An `Idempotency-Key` and the hash of the request it came with."""

    key: str
    request_hash: str


@dataclass(frozen=True)
class BatchCreate:
    batch_id: str
    tenant: str
    jobs: list[CreateRequest]
    concurrency: int
    request_id: str | None = None


class Scheduler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        prices: PriceBook,
        limits: SpecLimits,
        cancel_timeout: float,
        on_commit: Callable[[Committed], None],
        ask_provider: AskProvider | None = None,
        idempotency_ttl: float = 24 * 3600,
    ) -> None:
        self._idempotency_ttl = timedelta(seconds=idempotency_ttl)
        self._pool = pool
        self._prices = prices
        self.limits = limits
        self._cancel_timeout = cancel_timeout
        self._on_commit = on_commit
        self._ask_provider = ask_provider

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self._pool, self._on_commit)

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._pool, self._on_commit)

    def new_job(self, request: CreateRequest, released: bool = True) -> Job:
        """A pending job; `released=False` holds its deploy work back (batch over its limit)."""
        spec = request.spec
        price = self._prices.get(spec.provider)
        projected = None if price is None else price.hourly_usd(spec) * spec.duration / 3600
        now = utcnow()
        return Job(
            id=request.job_id,
            tenant=request.tenant,
            provider=spec.provider,
            status=JobStatus.PENDING,
            spec=request.spec_json
            or spec.model_dump(mode="json", by_alias=True, exclude_none=True),
            created_at=now,
            projected_cost_usd=projected,
            template_id=request.template_id,
            schedule_id=request.schedule_id,
            released_at=now if released else None,
        )

    @staticmethod
    async def insert_jobs(
        uow: UnitOfWork, jobs: list[Job], request_ids: list[str | None]
    ) -> set[str]:
        """Record jobs with their `created` events; deploy work for those released."""
        inserted = await uow.jobs.add_many(jobs)
        for job, request_id in zip(jobs, request_ids, strict=True):
            if job.id not in inserted:
                continue
            event = job.apply_created()
            uow.announce(job, event, request_id)
            if job.released_at is not None:
                uow.send_deploy(job, request_id)
        await uow.jobs.add_events([e for j in jobs for e in j.events])
        return inserted

    async def replay(
        self, uow: UnitOfWork, tenant: str, idempotency: IdempotencyKey | None
    ) -> dict[str, Any] | None:
        """The stored answer of an earlier request with this key, or None: go ahead (the
        key is now held by this transaction). Same key, other request: 409."""
        if idempotency is None:
            return None
        now = utcnow()
        stored = await uow.idempotency.claim(
            tenant, idempotency.key, idempotency.request_hash, now, now + self._idempotency_ttl
        )
        if stored is None:
            return None
        if stored.request_hash != idempotency.request_hash:
            raise ApiError(
                ErrorCode.IDEMPOTENCY_CONFLICT,
                f"Idempotency-Key {idempotency.key!r} was already used with a different request "
                "(other body or endpoint); use a new key for a new request",
                {"field": "Idempotency-Key", "key": idempotency.key},
            )
        return {"status": stored.status, "data": stored.response, "replayed": True}

    async def remember(
        self,
        uow: UnitOfWork,
        tenant: str,
        idempotency: IdempotencyKey | None,
        status: int,
        data: Any,
    ) -> dict[str, Any]:
        """Store the answer under the key (same transaction as what it created)."""
        if idempotency is not None:
            await uow.idempotency.record(tenant, idempotency.key, status, data)
        return {"status": status, "data": data, "replayed": False}

    async def create_job(
        self, request: CreateRequest, idempotency: IdempotencyKey | None
    ) -> dict[str, Any]:
        """Create one job in its own transaction, with its idempotency record."""
        async with self._uow() as uow:
            replayed = await self.replay(uow, request.tenant, idempotency)
            if replayed is not None:
                return replayed
            job = self.new_job(request)
            await self.insert_jobs(uow, [job], [request.request_id])
            answer = await self.remember(
                uow, request.tenant, idempotency, 201, views.summary(job, utcnow())
            )
            await uow.commit()
        return answer

    async def create_batch(
        self, batch: BatchCreate, idempotency: IdempotencyKey | None
    ) -> dict[str, Any]:
        """Record a batch and all its jobs in one transaction; release `concurrency` of them."""
        async with self._uow() as uow:
            replayed = await self.replay(uow, batch.tenant, idempotency)
            if replayed is not None:
                return replayed
            now = utcnow()
            record = Batch(batch.batch_id, batch.tenant, batch.concurrency, len(batch.jobs), now)
            await uow.batches.add(record)
            jobs = []
            for seq, request in enumerate(batch.jobs):
                job = self.new_job(request, released=seq < batch.concurrency)
                job.batch_id, job.batch_seq = batch.batch_id, seq
                jobs.append(job)
            await self.insert_jobs(uow, jobs, [batch.request_id] * len(jobs))
            counts = {JobStatus.PENDING.value: len(jobs)}
            view = batch_view(record, counts, max(len(jobs) - batch.concurrency, 0))
            uow.announce_resource("batch", record.id, record.tenant, BATCH_CREATED, view)
            data = {"batchId": record.id, "jobIds": [j.id for j in jobs], "status": "submitted"}
            answer = await self.remember(uow, batch.tenant, idempotency, 201, data)
            await uow.commit()
        return answer

    async def get_batch(self, tenant: str, batch_id: str) -> dict[str, Any]:
        async with self._uow() as uow:
            batch = await uow.batches.get(batch_id, tenant)
            if batch is None:
                raise _batch_not_found(batch_id)
            counts, waiting = await uow.batches.counts(batch_id)
        return batch_view(batch, counts, waiting)

    async def cancel_batch(self, tenant: str, batch_id: str) -> dict[str, Any]:
        """Cancel every job of the batch not yet ended; those still waiting end at once."""
        async with self._uow() as uow:
            if await uow.batches.get(batch_id, tenant) is None:
                raise _batch_not_found(batch_id)
            now = utcnow()
            # Jobs first, then the batch row: the order a job's own transition takes.
            for job in await uow.batches.lock_open_jobs(batch_id):
                self._cancel(uow, job, now, "batch cancelled")
                await uow.jobs.save(job)
            batch = await uow.batches.lock(batch_id)
            assert batch is not None
            if batch.cancelled_at is None:
                batch.cancelled_at = now
                await uow.batches.mark(batch)
                counts, waiting = await uow.batches.counts(batch_id)
                view = batch_view(batch, counts, waiting)
                uow.announce_resource("batch", batch.id, tenant, BATCH_CANCELLED, view)
            await uow.commit()
        return await self.get_batch(tenant, batch_id)

    def _cancel(self, uow: UnitOfWork, job: Job, now: datetime, reason: str) -> None:
        """Ask for the job's end: a job never released ends `cancelled` here and now (the
        network never heard of it); a released one waits for the network's release."""
        if job.status is JobStatus.CANCELLING:
            return
        event = job.apply(JobEventType.CANCEL_REQUESTED, now)
        uow.announce(job, event)
        if job.released_at is None:
            job.reason = f"{reason} before it was sent to the network"
            uow.announce(job, job.apply(JobEventType.CANCELLED, now))
            return
        work = CancelWork(job_id=job.id, reason=reason)
        uow.send_work(job.provider, "cancel", job.id, work.model_dump(mode="json", by_alias=True))

    async def create_jobs(self, requests: list[CreateRequest]) -> list[dict[str, Any]]:
        """Record new jobs in one transaction and queue their deployment."""
        jobs = [self.new_job(r) for r in requests]
        async with self._uow() as uow:
            inserted = await self.insert_jobs(uow, jobs, [r.request_id for r in requests])
            await uow.commit()
        now = utcnow()
        answers = []
        for job in jobs:
            if job.id in inserted:
                answers.append(views.summary(job, now))
            else:  # a re-sent create: answer with what was recorded the first time
                answers.append(await self.get_job(job.tenant, job.id, with_events=False))
        return answers

    async def get_job(self, tenant: str, job_id: str, with_events: bool = True) -> dict[str, Any]:
        async with self._pool.acquire() as conn:
            found = await JobRepository(conn).get(job_id, tenant)
        if found is None:
            raise _not_found(job_id)
        job, events = found
        return views.detail(job, utcnow(), events if with_events else None)

    async def list_jobs(self, query: JobQuery) -> dict[str, Any]:
        async with self._pool.acquire() as conn:
            jobs, total = await JobRepository(conn).query(query)
        now = utcnow()
        return {"items": [views.summary(j, now) for j in jobs], "total": total}

    async def cancel_job(self, tenant: str, job_id: str) -> dict[str, Any]:
        async with self._uow() as uow:
            job = await uow.jobs.lock(job_id, tenant)
            if job is None:
                raise _not_found(job_id)
            if job.status is JobStatus.CANCELLING:
                return {"id": job.id, "status": job.status.value}
            if job.status.is_terminal:
                raise ApiError(
                    ErrorCode.JOB_ALREADY_ENDED,
                    f"Job {job_id} already ended as {job.status.value}; only pending, scheduled "
                    "or running jobs can be cancelled",
                    {"id": job_id, "status": job.status.value},
                )
            self._cancel(uow, job, utcnow(), "cancelled by user")
            await uow.jobs.save(job)
            await uow.commit()
        return {"id": job.id, "status": job.status.value}

    async def extend_job(self, tenant: str, job_id: str, extra_seconds: int) -> dict[str, Any]:
        """Let a running job run longer, where its network agrees (409 where it cannot)."""
        async with self._uow() as uow:
            job = await uow.jobs.lock(job_id, tenant)
            if job is None:
                raise _not_found(job_id)
            if job.status is not JobStatus.RUNNING:
                raise ApiError(
                    ErrorCode.JOB_NOT_RUNNING,
                    f"Job {job_id} is {job.status.value}; only running jobs can be extended",
                    {"id": job_id, "status": job.status.value},
                )
            total = int(job.spec["duration"]) + extra_seconds
            if total > self.limits.max_duration_seconds:
                raise ApiError(
                    ErrorCode.VALIDATION_ERROR,
                    f"duration would become {total} s, over the maximum of "
                    f"{self.limits.max_duration_seconds} s",
                    [{"field": "duration", "rule": "max_total", "message": "too long in total"}],
                )
            assert self._ask_provider is not None
            await self._ask_provider(job.provider, "extend", {"jobId": job.id, "duration": total})
            event = job.extend(extra_seconds, utcnow())
            await uow.jobs.save(job)
            uow.announce(job, event)
            await uow.commit()
        return views.detail(job, utcnow())

    async def apply_report(self, report: JobReport) -> None:
        """Apply what a network said about a job, where the transition table allows it."""
        await self.apply_reports([report])

    async def apply_reports(self, reports: list[JobReport]) -> None:
        """Apply reports in arrival order, in one transaction: they come in bursts (every
        job sends several), and one commit for a burst is most of the saving."""
        async with self._uow() as uow:
            jobs = await uow.jobs.lock_many(sorted({r.job_id for r in reports}))
            touched: dict[str, Job] = {}
            for report in reports:
                job = jobs.get(report.job_id)
                if job is None:
                    log.warning("report.unknown_job", job_id=report.job_id, kind=report.kind.value)
                    continue
                _apply_report(uow, job, report)
                touched[job.id] = job
            await uow.jobs.save_many(list(touched.values()))
            await uow.commit()

    async def announce_cost_thresholds(self, thresholds: list[float], limit: int = 1000) -> int:
        """Publish `job.cost.threshold` when a running job's cost crosses a fraction of its
        projected cost."""
        now = utcnow()
        announced = 0
        async with self._uow() as uow:
            for job in await uow.jobs.lock_billing(limit):
                event = job.crossed_cost_threshold(thresholds, now)
                if event is None:
                    continue
                await uow.jobs.save(job)
                uow.announce(job, event)
                announced += 1
            await uow.commit()
        return announced

    async def expire_due(self, limit: int = 200) -> int:
        """End running jobs past `startedAt + duration` as `expired`, and release them."""
        now = utcnow()
        async with self._uow() as uow:
            jobs = await uow.jobs.lock_due_expiries(now, limit)
            for job in jobs:
                assert job.deadline_at is not None
                job.reason = f"reached its duration of {job.spec['duration']} s"
                event = job.apply(JobEventType.EXPIRED, job.deadline_at)
                await uow.jobs.save(job)
                uow.announce(job, event)
                work = CancelWork(job_id=job.id, reason="duration reached")
                uow.send_work(
                    job.provider, "cancel", job.id, work.model_dump(mode="json", by_alias=True)
                )
            await uow.commit()
        return len(jobs)

    async def end_stale_cancels(self, limit: int = 200) -> int:
        """A cancel the network never confirmed still ends the job after the timeout."""
        now = utcnow()
        async with self._uow() as uow:
            jobs = await uow.jobs.lock_stale_cancels(
                now - timedelta(seconds=self._cancel_timeout), limit
            )
            for job in jobs:
                job.reason = (
                    f"the network did not confirm the release within {self._cancel_timeout:g} s"
                )
                event = job.apply(JobEventType.CANCELLED, now, timedOut=True)
                await uow.jobs.save(job)
                uow.announce(job, event)
            await uow.commit()
        return len(jobs)


def _apply_report(uow: UnitOfWork, job: Job, report: JobReport) -> None:
    """One report on a locked job: a transition if the table allows it, else only what
    it says about billing (a lease we are cancelling still started billing)."""
    at = parse_time(report.at)
    if report.kind is ReportKind.SCHEDULED and not job.status.is_terminal:
        job.record_lease(report.hourly_rate_usd, at)
    event_type = report.kind.job_event
    if not can_transition(job.status, event_type):
        log.info("report.ignored", job_id=job.id, status=job.status.value, kind=report.kind.value)
        return
    if report.exit_code is not None:
        job.exit_code = report.exit_code
    if report.kind in (ReportKind.FAILED, ReportKind.RELEASED) and report.reason:
        job.reason = job.reason or report.reason
    event = job.apply(event_type, at, **_event_data(report))
    uow.announce(job, event)


def _event_data(report: JobReport) -> dict[str, Any]:
    data: dict[str, Any] = {"reason": report.reason, "exitCode": report.exit_code}
    data.update(report.details)
    return data


def _batch_not_found(batch_id: str) -> ApiError:
    return ApiError(ErrorCode.BATCH_NOT_FOUND, f"Batch {batch_id} not found", {"id": batch_id})


def _not_found(job_id: str) -> ApiError:
    return ApiError(ErrorCode.JOB_NOT_FOUND, f"Job {job_id} not found", {"id": job_id})
