"""Batches, templates and schedules as the scheduler holds them, and their API views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.status import JobStatus
from contracts.timefmt import format_time


@dataclass
class Batch:
    id: str
    tenant: str
    concurrency: int
    size: int
    created_at: datetime
    cancelled_at: datetime | None = None
    completed_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> Batch:
        return cls(**{k: row[k] for k in BATCH_COLUMNS})


BATCH_COLUMNS = (
    "id",
    "tenant",
    "concurrency",
    "size",
    "created_at",
    "cancelled_at",
    "completed_at",
)


def batch_view(batch: Batch, counts: dict[str, int], waiting: int) -> dict[str, Any]:
    """`GET /jobs/batches/:id`: counts by status (every status, zeros too) and `done`."""
    by_status = {s.value: counts.get(s.value, 0) for s in JobStatus}
    ended = sum(n for s, n in by_status.items() if JobStatus(s).is_terminal)
    return {
        "id": batch.id,
        "size": batch.size,
        "concurrency": batch.concurrency,
        "counts": by_status,
        "waiting": waiting,
        "done": ended == batch.size,
        "cancelled": batch.cancelled_at is not None,
        "createdAt": format_time(batch.created_at),
        "cancelledAt": format_time(batch.cancelled_at),
        "completedAt": format_time(batch.completed_at),
    }


@dataclass
class Template:
    id: str
    tenant: str
    name: str
    description: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Template:
        return cls(**{k: row[k] for k in TEMPLATE_COLUMNS})

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "config": self.config,
            "createdAt": format_time(self.created_at),
            "updatedAt": format_time(self.updated_at),
        }


TEMPLATE_COLUMNS = ("id", "tenant", "name", "description", "config", "created_at", "updated_at")


@dataclass
class Schedule:
    id: str
    tenant: str
    name: str
    cron: str
    timezone: str
    template_id: str | None
    overrides: dict[str, Any] | None
    config: dict[str, Any] | None
    paused: bool
    next_due_at: datetime
    last_due_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Schedule:
        return cls(**{k: row[k] for k in SCHEDULE_COLUMNS})

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "cron": self.cron,
            "timezone": self.timezone,
            "templateId": self.template_id,
            "overrides": self.overrides,
            "config": self.config,
            "paused": self.paused,
            "nextRunAt": None if self.paused else format_time(self.next_due_at),
            "lastRunAt": format_time(self.last_due_at),
            "createdAt": format_time(self.created_at),
            "updatedAt": format_time(self.updated_at),
        }


SCHEDULE_COLUMNS = (
    "id",
    "tenant",
    "name",
    "cron",
    "timezone",
    "template_id",
    "overrides",
    "config",
    "paused",
    "next_due_at",
    "last_due_at",
    "created_at",
    "updated_at",
)
