"""Kubernetes-style resource quantities: `512Mi`, `1Gi`, `500M`, `2T`."""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL_SUFFIXES = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_MULTIPLIERS = {"": 1, **BINARY_SUFFIXES, **DECIMAL_SUFFIXES}

# A plain or decimal number followed by an optional suffix; no sign, no exponent, no spaces.
_QUANTITY = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<suffix>[KMGTPE]i|[kMGTPE])?$")


class QuantityError(ValueError):
    """A quantity string that is not a positive Kubernetes-style size."""


@functools.lru_cache(maxsize=4096)  # specs repeat a handful of sizes; parsing is Decimal work
def parse_quantity(text: str) -> int:
    """Return the number of bytes a quantity such as `512Mi` stands for."""
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(
            f"{text!r} is not a quantity: use a positive number with an optional unit "
            "(Ki, Mi, Gi, Ti, Pi, Ei or k, M, G, T, P, E), e.g. '512Mi' or '1G'"
        )
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise QuantityError(f"{text!r} is not a number") from exc
    value = number * _MULTIPLIERS[match["suffix"] or ""]
    if value <= 0:
        raise QuantityError(f"{text!r} must be greater than zero")
    if value != value.to_integral_value():
        raise QuantityError(f"{text!r} is not a whole number of bytes")
    return int(value)


def format_bytes(value: int) -> str:
    """Render a byte count as the largest exact binary quantity (`536870912` → `512Mi`)."""
    for suffix, size in sorted(BINARY_SUFFIXES.items(), key=lambda item: -item[1]):
        if value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)
