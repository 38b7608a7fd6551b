"""Batches, templates, schedules and idempotency records in PostgreSQL (schema `jobs`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from contracts.status import TERMINAL_STATUSES
from cortex_scheduler.domain.model import Job
from cortex_scheduler.domain.resources import (
    BATCH_COLUMNS,
    SCHEDULE_COLUMNS,
    TEMPLATE_COLUMNS,
    Batch,
    Schedule,
    Template,
)

TERMINAL = [s.value for s in TERMINAL_STATUSES]


def _insert(table: str, columns: tuple[str, ...]) -> str:
    values = ", ".join(f"${i + 1}" for i in range(len(columns)))
    return f"INSERT INTO jobs.{table} ({', '.join(columns)}) VALUES ({values})"


class BatchRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add(self, batch: Batch) -> None:
        await self.conn.execute(
            _insert("batches", BATCH_COLUMNS), *(getattr(batch, c) for c in BATCH_COLUMNS)
        )

    async def get(self, batch_id: str, tenant: str) -> Batch | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM jobs.batches WHERE id = $1 AND tenant = $2", batch_id, tenant
        )
        return None if row is None else Batch.from_row(row)

    async def lock(self, batch_id: str, skip_locked: bool = False) -> Batch | None:
        """The batch row, locked: admissions to one batch happen one at a time."""
        skip = " SKIP LOCKED" if skip_locked else ""
        row = await self.conn.fetchrow(
            f"SELECT * FROM jobs.batches WHERE id = $1 FOR UPDATE{skip}", batch_id
        )
        return None if row is None else Batch.from_row(row)

    async def mark(self, batch: Batch) -> None:
        await self.conn.execute(
            "UPDATE jobs.batches SET cancelled_at = $2, completed_at = $3 WHERE id = $1",
            batch.id,
            batch.cancelled_at,
            batch.completed_at,
        )

    async def waiting(self, batch_id: str) -> bool:
        """Whether a job of the batch still waits for a slot (never released, not ended)."""
        return bool(
            await self.conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM jobs.jobs WHERE batch_id = $1"
                " AND released_at IS NULL AND status = 'pending')",
                batch_id,
            )
        )

    async def active(self, batch_id: str, up_to: int) -> int:
        """Jobs released and not yet ended, counted up to `up_to` (all that admission needs)."""
        # The predicate spells out the partial index jobs_batch_active's, so it is used.
        count = await self.conn.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM jobs.jobs WHERE batch_id = $1"
            " AND released_at IS NOT NULL"
            " AND status NOT IN ('completed', 'failed', 'cancelled', 'expired') LIMIT $2) a",
            batch_id,
            up_to,
        )
        return int(count)

    async def counts(self, batch_id: str) -> tuple[dict[str, int], int]:
        """Jobs by status, and how many still wait for a slot."""
        rows = await self.conn.fetch(
            "SELECT status, count(*) AS n, count(*) FILTER (WHERE released_at IS NULL) AS waiting"
            " FROM jobs.jobs WHERE batch_id = $1 GROUP BY status",
            batch_id,
        )
        return {r["status"]: int(r["n"]) for r in rows}, sum(
            int(r["waiting"]) for r in rows if r["status"] == "pending"
        )

    async def lock_waiting(self, batch_id: str, limit: int) -> list[Job]:
        """The next waiting jobs in submission order; one being changed now is skipped."""
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.jobs WHERE batch_id = $1 AND released_at IS NULL"
            " AND status = 'pending' ORDER BY batch_seq LIMIT $2 FOR UPDATE SKIP LOCKED",
            batch_id,
            limit,
        )
        return [Job.from_row(r) for r in rows]

    async def release(self, job_ids: list[str], at: datetime) -> None:
        await self.conn.execute(
            "UPDATE jobs.jobs SET released_at = $2 WHERE id = ANY($1::text[])", job_ids, at
        )

    async def lock_open_jobs(self, batch_id: str) -> list[Job]:
        """Every job of the batch not yet ended, locked in id order (no deadlocks)."""
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.jobs WHERE batch_id = $1 AND status <> ALL($2::text[])"
            " ORDER BY id FOR UPDATE",
            batch_id,
            TERMINAL,
        )
        return [Job.from_row(r) for r in rows]

    async def with_waiting_jobs(self, limit: int) -> list[str]:
        """Batches that have jobs waiting for a slot (the sweep's work list)."""
        rows = await self.conn.fetch(
            "SELECT DISTINCT batch_id FROM jobs.jobs WHERE batch_id IS NOT NULL"
            " AND released_at IS NULL AND status = 'pending' LIMIT $1",
            limit,
        )
        return [r["batch_id"] for r in rows]


class TemplateRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add(self, template: Template) -> None:
        await self.conn.execute(
            _insert("templates", TEMPLATE_COLUMNS),
            *(getattr(template, c) for c in TEMPLATE_COLUMNS),
        )

    async def get(self, template_id: str, tenant: str, lock: bool = False) -> Template | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM jobs.templates WHERE id = $1 AND tenant = $2"
            + (" FOR UPDATE" if lock else ""),
            template_id,
            tenant,
        )
        return None if row is None else Template.from_row(row)

    async def save(self, template: Template) -> None:
        await self.conn.execute(
            "UPDATE jobs.templates SET name = $2, description = $3, config = $4, updated_at = $5"
            " WHERE id = $1",
            template.id,
            template.name,
            template.description,
            template.config,
            template.updated_at,
        )

    async def delete(self, template_id: str) -> None:
        await self.conn.execute("DELETE FROM jobs.templates WHERE id = $1", template_id)

    async def page(self, tenant: str, page: int, limit: int) -> tuple[list[Template], int]:
        total = await self.conn.fetchval(
            "SELECT count(*) FROM jobs.templates WHERE tenant = $1", tenant
        )
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.templates WHERE tenant = $1 ORDER BY created_at DESC, id DESC"
            " LIMIT $2 OFFSET $3",
            tenant,
            limit,
            (page - 1) * limit,
        )
        return [Template.from_row(r) for r in rows], int(total)


class ScheduleRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add(self, schedule: Schedule) -> None:
        await self.conn.execute(
            _insert("schedules", SCHEDULE_COLUMNS),
            *(getattr(schedule, c) for c in SCHEDULE_COLUMNS),
        )

    async def get(self, schedule_id: str, tenant: str, lock: bool = False) -> Schedule | None:
        row = await self.conn.fetchrow(
            "SELECT * FROM jobs.schedules WHERE id = $1 AND tenant = $2"
            + (" FOR UPDATE" if lock else ""),
            schedule_id,
            tenant,
        )
        return None if row is None else Schedule.from_row(row)

    async def save(self, schedule: Schedule) -> None:
        columns = SCHEDULE_COLUMNS[2:]
        assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
        await self.conn.execute(
            f"UPDATE jobs.schedules SET {assignments} WHERE id = $1",
            schedule.id,
            *(getattr(schedule, c) for c in columns),
        )

    async def delete(self, schedule_id: str) -> None:
        await self.conn.execute("DELETE FROM jobs.schedules WHERE id = $1", schedule_id)

    async def page(self, tenant: str, page: int, limit: int) -> tuple[list[Schedule], int]:
        total = await self.conn.fetchval(
            "SELECT count(*) FROM jobs.schedules WHERE tenant = $1", tenant
        )
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.schedules WHERE tenant = $1 ORDER BY created_at DESC, id DESC"
            " LIMIT $2 OFFSET $3",
            tenant,
            limit,
            (page - 1) * limit,
        )
        return [Schedule.from_row(r) for r in rows], int(total)

    async def lock_due(self, now: datetime, limit: int) -> list[Schedule]:
        """Due schedules no other replica is firing right now."""
        rows = await self.conn.fetch(
            "SELECT * FROM jobs.schedules WHERE NOT paused AND next_due_at <= $1"
            " ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [Schedule.from_row(r) for r in rows]

    async def add_run(self, schedule_id: str, due_at: datetime) -> bool:
        """Claim one due time; False when it already fired (the primary key says so)."""
        row = await self.conn.fetchrow(
            "INSERT INTO jobs.schedule_runs (schedule_id, due_at) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING due_at",
            schedule_id,
            due_at,
        )
        return row is not None

    async def finish_run(
        self, schedule_id: str, due_at: datetime, job_id: str | None, error: str | None
    ) -> None:
        await self.conn.execute(
            "UPDATE jobs.schedule_runs SET job_id = $3, error = $4"
            " WHERE schedule_id = $1 AND due_at = $2",
            schedule_id,
            due_at,
            job_id,
            error,
        )


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status: int
    response: Any


class IdempotencyRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def claim(
        self, tenant: str, key: str, request_hash: str, now: datetime, expires_at: datetime
    ) -> StoredAnswer | None:
        """None when this transaction now owns the key (first use, or the record expired);
        else the first request's answer. A concurrent first use makes this wait for it."""
        claimed = await self.conn.fetchrow(
            """
            INSERT INTO jobs.idempotency (tenant, key, request_hash, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
                status = NULL, response = NULL, created_at = EXCLUDED.created_at,
                expires_at = EXCLUDED.expires_at
              WHERE jobs.idempotency.expires_at <= EXCLUDED.created_at
            RETURNING key
            """,
            tenant,
            key,
            request_hash,
            now,
            expires_at,
        )
        if claimed is not None:
            return None
        row = await self.conn.fetchrow(
            "SELECT request_hash, status, response FROM jobs.idempotency"
            " WHERE tenant = $1 AND key = $2",
            tenant,
            key,
        )
        return StoredAnswer(row["request_hash"], row["status"], row["response"])

    async def record(self, tenant: str, key: str, status: int, response: Any) -> None:
        await self.conn.execute(
            "UPDATE jobs.idempotency SET status = $3, response = $4 WHERE tenant = $1 AND key = $2",
            tenant,
            key,
            status,
            response,
        )

    async def delete_expired(self, now: datetime, limit: int) -> int:
        result: str = await self.conn.execute(
            "DELETE FROM jobs.idempotency WHERE ctid = ANY(ARRAY(SELECT ctid FROM jobs.idempotency"
            " WHERE expires_at <= $1 LIMIT $2))",
            now,
            limit,
        )
        return int(result.split()[-1])
