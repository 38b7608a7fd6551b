"""A job as the scheduler holds it, and what applying an event to it changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.events import new_event_id
from contracts.status import JobEventType, JobStatus, transition


@dataclass
class Job:
    id: str
    tenant: str
    provider: str
    status: JobStatus
    spec: dict[str, Any]
    created_at: datetime
    reason: str | None = None
    exit_code: int | None = None
    projected_cost_usd: float | None = None
    hourly_rate_usd: float | None = None
    billing_started_at: datetime | None = None
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    deadline_at: datetime | None = None
    ended_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    cost_threshold_sent: float = 0.0
    version: int = 0
    batch_id: str | None = None
    batch_seq: int | None = None
    template_id: str | None = None
    schedule_id: str | None = None
    # When deploy work was sent; a batch job over its batch's limit waits with None.
    released_at: datetime | None = None
    events: list[JobEvent] = field(default_factory=list)
    # Only an extension changes the spec: other saves leave the stored one as it is.
    spec_changed: bool = False

    @classmethod
    def from_row(cls, row: Any) -> Job:
        return cls(**{k: row[k] for k in _COLUMNS}, status=JobStatus(row["status"]))

    def cost_usd(self, now: datetime) -> float:
        """Accrued cost: the lease's hourly rate from billing start until the end (or now)."""
        if self.hourly_rate_usd is None or self.billing_started_at is None:
            return 0.0
        until = self.ended_at or now
        hours = max((until - self.billing_started_at).total_seconds(), 0.0) / 3600
        return self.hourly_rate_usd * hours

    def apply(self, event: JobEventType, at: datetime, **data: Any) -> JobEvent:
        """Move the job by `event` (raises IllegalTransition) and record what happened."""
        self.status = transition(self.status, event)
        self.version += 1
        if event is JobEventType.SCHEDULED:
            self.scheduled_at = at
        elif event is JobEventType.STARTED:
            self.scheduled_at = self.scheduled_at or at
            self.started_at = at
            self.deadline_at = at + timedelta(seconds=int(self.spec["duration"]))
        elif event is JobEventType.CANCEL_REQUESTED:
            self.cancel_requested_at = at
        if self.status.is_terminal:
            self.ended_at = at
        recorded = JobEvent(id=new_event_id(), job_id=self.id, type=event, at=at, data=data)
        self.events.append(recorded)
        return recorded

    def apply_created(self) -> JobEvent:
        """The first event of every job: it exists, pending (and where it came from)."""
        origin = {
            "batchId": self.batch_id,
            "templateId": self.template_id,
            "scheduleId": self.schedule_id,
        }
        recorded = JobEvent(
            id=new_event_id(),
            job_id=self.id,
            type=JobEventType.CREATED,
            at=self.created_at,
            data={k: v for k, v in origin.items() if v is not None},
        )
        self.events.append(recorded)
        return recorded

    def crossed_cost_threshold(self, thresholds: list[float], now: datetime) -> JobEvent | None:
        """Record `cost.threshold` for the highest fraction of the projected cost newly
        crossed (once each; thresholds skipped over are covered by the higher one)."""
        if not self.projected_cost_usd:
            return None
        fraction = self.cost_usd(now) / self.projected_cost_usd
        crossed = [t for t in thresholds if self.cost_threshold_sent < t <= fraction]
        if not crossed:
            return None
        self.cost_threshold_sent = max(crossed)
        data = {
            "threshold": self.cost_threshold_sent,
            "costCurrent": round(self.cost_usd(now), 6),
            "costProjected": round(self.projected_cost_usd, 6),
        }
        recorded = JobEvent(new_event_id(), self.id, JobEventType.COST_THRESHOLD, now, data)
        self.events.append(recorded)
        return recorded

    def extend(self, extra_seconds: int, at: datetime) -> JobEvent:
        """Run `extra_seconds` longer; the network has already agreed."""
        total = int(self.spec["duration"]) + extra_seconds
        self.spec = {**self.spec, "duration": total}
        self.spec_changed = True
        if self.deadline_at is not None:
            self.deadline_at += timedelta(seconds=extra_seconds)
        data = {"duration": total, "extendedBy": extra_seconds}
        recorded = JobEvent(new_event_id(), self.id, JobEventType.EXTENDED, at, data)
        self.events.append(recorded)
        return recorded

    def record_lease(self, hourly_rate_usd: float | None, at: datetime) -> None:
        """Billing starts when the network leases resources, whatever status we show."""
        if hourly_rate_usd is not None and self.billing_started_at is None:
            self.hourly_rate_usd = hourly_rate_usd
            self.billing_started_at = at


@dataclass
class JobEvent:
    id: str
    job_id: str
    type: JobEventType
    at: datetime
    data: dict[str, Any]


_COLUMNS = (
    "id",
    "tenant",
    "provider",
    "spec",
    "created_at",
    "reason",
    "exit_code",
    "projected_cost_usd",
    "hourly_rate_usd",
    "billing_started_at",
    "scheduled_at",
    "started_at",
    "deadline_at",
    "ended_at",
    "cancel_requested_at",
    "cost_threshold_sent",
    "version",
    "batch_id",
    "batch_seq",
    "template_id",
    "schedule_id",
    "released_at",
)
MUTABLE_COLUMNS = _COLUMNS[5:]  # and the spec, saved only when an extension changed it
