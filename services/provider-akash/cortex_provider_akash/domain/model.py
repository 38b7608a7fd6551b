"""A job's deployment on Akash and the states it passes through in this service."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class DeploymentState(StrEnum):
    NEW = "new"  # recorded, nothing on the network yet
    CREATING = "creating"  # a create call may have reached Console: look it up by name first
    BIDDING = "bidding"  # deployment exists (dseq), waiting for an acceptable bid
    LEASED = "leased"  # lease created: the network bills from here
    RUNNING = "running"  # the workload started
    FINISHING = "finishing"  # outcome decided; closing the deployment and reporting it
    CLOSED = "closed"  # closed on the network and reported: nothing left to do


@dataclass
class Outcome:
    """How the job ended on the network, reported once the deployment is closed."""

    kind: str  # completed | failed | released
    reason: str | None = None
    exit_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "exitCode": self.exit_code}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        return cls(data["kind"], data.get("reason"), data.get("exitCode"))


@dataclass
class Deployment:
    job_id: str
    tenant: str
    spec: dict[str, Any] | None
    state: DeploymentState
    dseq: str | None = None
    gseq: int | None = None
    oseq: int | None = None
    provider: str | None = None
    hourly_rate_usd: float | None = None
    outcome: Outcome | None = None
    cancel_requested: bool = False
    cancel_reason: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> Deployment:
        outcome = row["outcome"]
        return cls(
            job_id=row["job_id"],
            tenant=row["tenant"],
            spec=row["spec"],
            state=DeploymentState(row["state"]),
            dseq=row["dseq"],
            gseq=row["gseq"],
            oseq=row["oseq"],
            provider=row["provider"],
            hourly_rate_usd=row["hourly_rate_usd"],
            outcome=Outcome.from_dict(outcome) if outcome else None,
            cancel_requested=row["cancel_requested"],
            cancel_reason=row["cancel_reason"],
        )


def hourly_usd(amount_per_block: float, block_seconds: float, usd_per_token: float) -> float:
    """Bid price (micro-denom per block) → USD per hour: amount × blocks/h ÷ 10⁶ × USD/token."""
    return amount_per_block * (3600 / block_seconds) / 1_000_000 * usd_per_token
