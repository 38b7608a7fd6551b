"""A job's deployment on one network and the states it passes through in its provider service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.job import JobSpec
from contracts.timefmt import format_time, parse_time


class DeploymentState(StrEnum):
    NEW = "new"  # recorded, nothing asked of the network yet
    DEPLOYING = "deploying"  # the adapter is acquiring resources; `handle` says how far it got
    PLACED = "placed"  # the network holds (and bills) resources: reported `scheduled`
    RUNNING = "running"  # the workload started: reported `started`
    FINISHING = "finishing"  # outcome decided; releasing on the network, then reporting it
    CLOSED = "closed"  # released and reported: nothing left to do


@dataclass
class Outcome:
    """How the job ended on the network, reported once everything is released."""

    kind: str  # completed | failed | released
    reason: str | None = None
    exit_code: int | None = None
    at: datetime | None = None  # when the workload ended, as the network reports it

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "exitCode": self.exit_code,
            "at": format_time(self.at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        at = data.get("at")
        return cls(
            data["kind"], data.get("reason"), data.get("exitCode"), parse_time(at) if at else None
        )


@dataclass
class Deployment:
    """The handle we must never lose: what the network knows the job by (`handle`: dseq,
    agreement id, service id…, owned by the adapter) and how far it got."""

    job_id: str
    tenant: str
    spec: dict[str, Any] | None
    state: DeploymentState
    handle: dict[str, Any] = field(default_factory=dict)
    hourly_rate_usd: float | None = None
    outcome: Outcome | None = None
    cancel_requested: bool = False
    cancel_reason: str | None = None
    _job_spec: JobSpec | None = field(default=None, init=False, repr=False, compare=False)

    def job_spec(self) -> JobSpec:
        """`spec` validated, once per drive (the driver and the adapter both read it)."""
        if self._job_spec is None:
            assert self.spec is not None, "a deployment to deploy has a spec"
            self._job_spec = JobSpec.model_validate(self.spec)
        return self._job_spec

    @classmethod
    def from_row(cls, row: Any) -> Deployment:
        outcome = row["outcome"]
        return cls(
            job_id=row["job_id"],
            tenant=row["tenant"],
            spec=row["spec"],
            state=DeploymentState(row["state"]),
            handle=dict(row["handle"] or {}),
            hourly_rate_usd=row["hourly_rate_usd"],
            outcome=Outcome.from_dict(outcome) if outcome else None,
            cancel_requested=row["cancel_requested"],
            cancel_reason=row["cancel_reason"],
        )
