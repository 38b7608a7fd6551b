"""What Golem knows a job by: the ids of everything made for it, kept in `Deployment.handle`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class GolemHandle:
    """Every id is saved before the call that creates the thing, with a way to find it again.

    `allocation_marker` is the allocation's `timeout`, unique per job, so an allocation whose
    answer was lost is found in the list; a demand carries the job id as a property for the
    same reason. Agreements, activities and batches cannot be listed on yagna: `proposal_id`
    (saved before the agreement is created) and the `*_pending` flags say an answer may have
    been lost, and terminating the agreement destroys every activity made under it.
    """

    allocation_id: str | None = None
    allocation_marker: str | None = None
    demand_id: str | None = None
    demand_pending: bool = False
    proposal_id: str | None = None
    agreement_id: str | None = None
    agreement_confirmed: bool = False
    valid_to: str | None = None  # the agreement's validTo (RFC 3339)
    approved_at: float | None = None  # epoch seconds when the provider approved
    provider_id: str | None = None
    provider_name: str | None = None
    price: dict[str, Any] | None = None  # the offer's {vector, coeffs}: what the job pays
    activity_id: str | None = None
    activity_pending: bool = False
    batch_id: str | None = None
    exec_pending: bool = False

    @classmethod
    def of(cls, handle: dict[str, Any]) -> GolemHandle:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in handle.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}
