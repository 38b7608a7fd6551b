"""The linear price model: cost = start + Σ coeffᵢ × usageᵢ, in GLM."""

from __future__ import annotations

from decimal import Decimal

from devnets.golem.settings import GolemProviderSettings

GLM_PLACES = Decimal(10) ** -18  # GLM is an 18-decimal token


def linear_cost(provider: GolemProviderSettings, usage: list[float]) -> Decimal:
    """Cost of a usage vector (in the provider's usage.vector order) at its prices."""
    *per_unit, start = provider.coeffs()
    total = start + sum(
        (price * Decimal(repr(amount)) for price, amount in zip(per_unit, usage, strict=True)),
        Decimal(0),
    )
    return total.quantize(GLM_PLACES)


def amount_text(amount: Decimal) -> str:
    """A decimal string without exponent or trailing zeros, as yagna writes amounts."""
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
