"""Golem's linear price model (GLM) and its conversion to USD per hour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cortex_provider_golem.domain.properties import prop

DURATION_SEC = "golem.usage.duration_sec"  # wall seconds of the activity ("env-sec")
CPU_SEC = "golem.usage.cpu_sec"  # CPU seconds its processes used
USAGE_VECTOR = "golem.com.usage.vector"
COEFFS = "golem.com.pricing.model.linear.coeffs"
PRICING_MODEL = "golem.com.pricing.model"


class PriceError(ValueError):
    """An offer whose price we cannot evaluate (another model, unknown usage counters)."""


@dataclass(frozen=True)
class LinearPrice:
    """cost = start + env_sec × wall seconds + cpu_sec × CPU seconds, all in GLM."""

    env_sec: float
    cpu_sec: float
    start: float

    @classmethod
    def of_offer(cls, properties: Mapping[str, Any]) -> LinearPrice:
        """From an offer; coefficient indexes are found by name (providers order them freely)."""
        model = prop(properties, PRICING_MODEL, "linear")
        if model != "linear":
            raise PriceError(f"pricing model {model!r} is not linear")
        return cls.of_terms(prop(properties, USAGE_VECTOR), prop(properties, COEFFS))

    @classmethod
    def of_terms(cls, vector: Any, coeffs: Any) -> LinearPrice:
        """From `golem.com.usage.vector` and its coefficients (one per entry, then the start)."""
        if not isinstance(vector, list) or not isinstance(coeffs, list):
            raise PriceError("the offer has no usage vector or coefficients")
        if len(coeffs) != len(vector) + 1:
            raise PriceError(f"{len(coeffs)} coefficients for {len(vector)} usage counters")
        values = [float(c) for c in coeffs]
        per_unit = dict(zip(vector, values[:-1], strict=True))
        unknown = [
            name
            for name, value in per_unit.items()
            if name not in (DURATION_SEC, CPU_SEC) and value
        ]
        if unknown:
            raise PriceError(f"cannot price usage counters {unknown}")
        return cls(per_unit.get(DURATION_SEC, 0.0), per_unit.get(CPU_SEC, 0.0), values[-1])

    def hourly_glm(self, cores: float) -> float:
        """GLM per hour of a job keeping `cores` CPUs busy (the start price excluded)."""
        return (self.cpu_sec * cores + self.env_sec) * 3600

    def estimate_glm(self, seconds: float, cores: float) -> float:
        """GLM for the whole job: start price plus `seconds` with `cores` CPUs busy."""
        return self.start + seconds * (self.env_sec + self.cpu_sec * cores)


def terms(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The offer's price terms as saved in the handle (to price the job again after a restart)."""
    return {"vector": prop(properties, USAGE_VECTOR), "coeffs": prop(properties, COEFFS)}
