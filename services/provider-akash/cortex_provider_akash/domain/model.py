"""What Akash knows a job by, and how its prices turn into USD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class AkashHandle:
    """The deployment's ids on Akash, kept in `Deployment.handle`.

    `creating` is saved before the create call: a deployment that exists although we never
    saw the answer is then looked up by name instead of being left open and billed.
    """

    dseq: str | None = None
    gseq: int | None = None
    oseq: int | None = None
    provider: str | None = None
    creating: bool = False

    @classmethod
    def of(cls, handle: dict[str, Any]) -> AkashHandle:
        return cls(
            dseq=handle.get("dseq"),
            gseq=handle.get("gseq"),
            oseq=handle.get("oseq"),
            provider=handle.get("provider"),
            creating=bool(handle.get("creating")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in (None, False)}


def hourly_usd(amount_per_block: float, block_seconds: float, usd_per_token: float) -> float:
    """Bid price (micro-denom per block) → USD per hour: amount × blocks/h ÷ 10⁶ × USD/token."""
    return amount_per_block * (3600 / block_seconds) / 1_000_000 * usd_per_token
