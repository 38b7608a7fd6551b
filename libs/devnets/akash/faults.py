"""Faults the control endpoint can switch on, to test how clients cope."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    """Current fault switches; JSON uses the camelCase names."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    no_bids: bool = Field(False, alias="noBids")
    bid_delay_seconds: float | None = Field(None, alias="bidDelaySeconds", ge=0)
    api_error_rate: float = Field(0.0, alias="apiErrorRate", ge=0, le=1)
    rate_limit_rate: float = Field(0.0, alias="rateLimitRate", ge=0, le=1)
    slow_ms: int = Field(0, alias="slowMs", ge=0)
    # The call takes effect, but its answer is lost (504): how a timeout after a write looks.
    lose_answer_rate: float = Field(0.0, alias="loseAnswerRate", ge=0, le=1)
    offline: bool = False
    insufficient_funds: bool = Field(False, alias="insufficientFunds")

    def merged(self, changes: dict[str, object]) -> Faults:
        """A copy with the given (camelCase) fields changed, validated."""
        return Faults.model_validate(self.model_dump(by_alias=True) | changes)
