"""Jobs and their events in PostgreSQL (schema `jobs`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from contracts.status import JobEventType
from cortex_scheduler.domain.model import MUTABLE_COLUMNS, Job, JobEvent

SORT_COLUMNS = {
    "createdAt": "created_at",
    "startedAt": "started_at",
    "endedAt": "ended_at",
    "status": "status",
    "provider": "provider",
}


# PostgreSQL types of the columns a save writes (arrays of them are unnested below).
_SAVED_TYPES = {
    "id": "text",
    "status": "text",
    "spec": "jsonb",
    "reason": "text",
    "exit_code": "int4",
    "projected_cost_usd": "float8",
    "hourly_rate_usd": "float8",
    "billing_started_at": "timestamptz",
    "scheduled_at": "timestamptz",
    "started_at": "timestamptz",
    "deadline_at": "timestamptz",
    "ended_at": "timestamptz",
    "cancel_requested_at": "timestamptz",
    "cost_threshold_sent": "float8",
    "version": "int4",
    "batch_id": "text",
    "batch_seq": "int4",
    "template_id": "text",
    "schedule_id": "text",
    "released_at": "timestamptz",
}
assert set(_SAVED_TYPES) == {"id", "status", "spec", *MUTABLE_COLUMNS}, "a column without a type"
_SAVED = ("id", "status", "spec", *MUTABLE_COLUMNS)
# One statement for all jobs of a unit of work (executing it once per job cost PostgreSQL an
# executor start each). The spec is written only when it changed (NULL keeps it): most saves
# are a status change, and rewriting the spec's JSON each time cost more than the rest.
_UPDATE = (
    "UPDATE jobs.jobs AS j SET status = u.status, spec = COALESCE(u.spec, j.spec), "
    + ", ".join(f"{c} = u.{c}" for c in MUTABLE_COLUMNS)
    + " FROM unnest("
    + ", ".join(f"${i + 1}::{_SAVED_TYPES[c]}[]" for i, c in enumerate(_SAVED))
    + f") AS u({', '.join(_SAVED)}) WHERE j.id = u.id"
)


@dataclass(frozen=True)
class JobQuery:
    tenant: str
    statuses: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    batch_id: str | None = None
    schedule_id: str | None = None
    sort_field: str = "createdAt"
    descending: bool = True
    page: int = 1
    limit: int = 20


class JobRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add_many(self, jobs: list[Job]) -> set[str]:
        """Insert new jobs; returns the ids actually inserted (a re-sent create is a no-op)."""
        rows = await self.conn.fetch(
            """
            INSERT INTO jobs.jobs (id, tenant, provider, status, spec, projected_cost_usd,
                                   created_at, batch_id, batch_seq, template_id, schedule_id,
                                   released_at)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
                                 $6::float8[], $7::timestamptz[], $8::text[], $9::int[],
                                 $10::text[], $11::text[], $12::timestamptz[])
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """,
            [j.id for j in jobs],
            [j.tenant for j in jobs],
            [j.provider for j in jobs],
            [j.status.value for j in jobs],
            [j.spec for j in jobs],
            [j.projected_cost_usd for j in jobs],
            [j.created_at for j in jobs],
            [j.batch_id for j in jobs],
            [j.batch_seq for j in jobs],
            [j.template_id for j in jobs],
            [j.schedule_id for j in jobs],
            [j.released_at for j in jobs],
        )
        return {r["id"] for r in rows}

    async def add_events(self, events: list[JobEvent]) -> None:
        if not events:
            return
        await self.conn.execute(
            """
            INSERT INTO jobs.job_events (id, job_id, type, at, data)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])
            """,
            [e.id for e in events],
            [e.job_id for e in events],
            [e.type.value for e in events],
            [e.at for e in events],
            [e.data for e in events],
        )

    async def lock(self, job_id: str, tenant: str | None = None) -> Job | None:
        """Load a job and hold its row lock until the transaction ends."""
        row = await self.conn.fetchrow(
            "SELECT * FROM jobs.jobs WHERE id = $1 AND ($2::text IS NULL OR tenant = $2) FOR UPDATE",
            job_id,
            tenant,
        )
        return None if row is None else Job.from_row(row)

    async def lock_many(self, job_ids: list[str]) -> dict[str, Job]:
        """Load jobs by id and hold their row locks; locked in id order, so two
        transactions locking overlapping sets cannot deadlock each other."""
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.jobs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
            job_ids,
        )
        return {row["id"]: Job.from_row(row) for row in rows}

    async def save_many(self, jobs: list[Job]) -> None:
        """`save` for several jobs, in one statement (each job appears once)."""
        if not jobs:
            return
        assert len({j.id for j in jobs}) == len(jobs), "one row per job: the update joins on id"
        rows = [
            (
                j.id,
                j.status.value,
                j.spec if j.spec_changed else None,
                *(getattr(j, c) for c in MUTABLE_COLUMNS),
            )
            for j in jobs
        ]
        await self.conn.execute(_UPDATE, *(list(column) for column in zip(*rows, strict=True)))
        await self.add_events([e for j in jobs for e in j.events])
        for job in jobs:
            job.events.clear()
            job.spec_changed = False

    async def save(self, job: Job) -> None:
        await self.save_many([job])

    async def get(self, job_id: str, tenant: str) -> tuple[Job, list[JobEvent]] | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM jobs.jobs WHERE id = $1 AND tenant = $2", job_id, tenant
        )
        if row is None:
            return None
        events = await self.conn.fetch(
            "SELECT id, job_id, type, at, data FROM jobs.job_events WHERE job_id = $1 ORDER BY seq",
            job_id,
        )
        return Job.from_row(row), [
            JobEvent(e["id"], e["job_id"], JobEventType(e["type"]), e["at"], e["data"])
            for e in events
        ]

    async def query(self, q: JobQuery) -> tuple[list[Job], int]:
        where, args = _filters(q)
        total = await self.conn.fetchval(f"SELECT count(*) FROM jobs.jobs WHERE {where}", *args)
        direction = "DESC" if q.descending else "ASC"
        nulls = "NULLS LAST" if q.descending else "NULLS FIRST"
        column = SORT_COLUMNS[q.sort_field]
        rows = await self.conn.fetch(
            f"SELECT * FROM jobs.jobs WHERE {where} "
            f"ORDER BY {column} {direction} {nulls}, id {direction} "
            f"LIMIT {int(q.limit)} OFFSET {int((q.page - 1) * q.limit)}",
            *args,
        )
        return [Job.from_row(r) for r in rows], int(total)

    async def lock_due_expiries(self, now: datetime, limit: int) -> list[Job]:
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.jobs WHERE status = 'running' AND deadline_at <= $1 "
            "ORDER BY deadline_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [Job.from_row(r) for r in rows]

    async def lock_billing(self, limit: int) -> list[Job]:
        """Running jobs that accrue cost against a projection (cost threshold checks)."""
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.jobs WHERE status = 'running' AND hourly_rate_usd IS NOT NULL "
            "AND projected_cost_usd > 0 AND cost_threshold_sent < 1e9 "
            "ORDER BY started_at LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        return [Job.from_row(r) for r in rows]

    async def lock_stale_cancels(self, requested_before: datetime, limit: int) -> list[Job]:
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.jobs WHERE status = 'cancelling' AND cancel_requested_at <= $1 "
            "ORDER BY cancel_requested_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            requested_before,
            limit,
        )
        return [Job.from_row(r) for r in rows]


def _filters(q: JobQuery) -> tuple[str, list[Any]]:
    clauses, args = ["tenant = $1"], [q.tenant]

    def add(clause: str, value: Any) -> None:
        args.append(value)
        clauses.append(clause.format(f"${len(args)}"))

    if q.statuses:
        add("status = ANY({}::text[])", list(q.statuses))
    if q.providers:
        add("provider = ANY({}::text[])", list(q.providers))
    if q.created_from:
        add("created_at >= {}", q.created_from)
    if q.created_to:
        add("created_at <= {}", q.created_to)
    if q.batch_id:
        add("batch_id = {}", q.batch_id)
    if q.schedule_id:
        add("schedule_id = {}", q.schedule_id)
    return " AND ".join(clauses), args
