"""Job statuses, the events that move a job between them, and the transition table."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    CANCELLING = "cancelling"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED}
)
ACTIVE_STATUSES = frozenset(set(JobStatus) - TERMINAL_STATUSES)


class JobEventType(StrEnum):
    """What happened to a job; each one is recorded and published as `job.<value>`."""

    CREATED = "created"
    SCHEDULED = "scheduled"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELLED = "cancelled"
    # Informative: recorded and published, never a transition.
    COST_THRESHOLD = "cost.threshold"
    EXTENDED = "extended"


_S, _E = JobStatus, JobEventType

# (status, event) -> next status. Anything absent is not allowed and is ignored by the
# scheduler: that is how late, duplicate or out-of-order reports are made harmless.
# A job may finish before its `started` report is applied (reports are at-least-once and
# can be redelivered out of order), so `pending`/`scheduled` accept the end states too.
# While `cancelling`, only the network's release ends the job: the exit code of a process
# we are stopping ourselves says nothing about the workload.
TRANSITIONS: dict[tuple[JobStatus, JobEventType], JobStatus] = {
    (_S.PENDING, _E.SCHEDULED): _S.SCHEDULED,
    (_S.PENDING, _E.STARTED): _S.RUNNING,
    (_S.PENDING, _E.COMPLETED): _S.COMPLETED,
    (_S.PENDING, _E.FAILED): _S.FAILED,
    (_S.PENDING, _E.CANCEL_REQUESTED): _S.CANCELLING,
    (_S.SCHEDULED, _E.STARTED): _S.RUNNING,
    (_S.SCHEDULED, _E.COMPLETED): _S.COMPLETED,
    (_S.SCHEDULED, _E.FAILED): _S.FAILED,
    (_S.SCHEDULED, _E.CANCEL_REQUESTED): _S.CANCELLING,
    (_S.RUNNING, _E.COMPLETED): _S.COMPLETED,
    (_S.RUNNING, _E.FAILED): _S.FAILED,
    (_S.RUNNING, _E.EXPIRED): _S.EXPIRED,
    (_S.RUNNING, _E.CANCEL_REQUESTED): _S.CANCELLING,
    (_S.CANCELLING, _E.CANCELLED): _S.CANCELLED,
}


class IllegalTransition(Exception):
    """The event does not apply to a job in its current status."""

    def __init__(self, status: JobStatus, event: JobEventType) -> None:
        super().__init__(f"a {status.value} job cannot take a {event.value} event")
        self.status = status
        self.event = event


def transition(status: JobStatus, event: JobEventType) -> JobStatus:
    """Return the status a job in `status` moves to on `event`, or raise IllegalTransition."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(status, event) from None


def can_transition(status: JobStatus, event: JobEventType) -> bool:
    return (status, event) in TRANSITIONS
