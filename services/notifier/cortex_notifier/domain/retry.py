"""When a failed delivery is tried again, and when it is given up."""

from __future__ import annotations

# Seconds after the 1st, 2nd, … failed attempt; after the last one the delivery has failed.
SCHEDULE: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0, 3600.0)
MAX_ATTEMPTS = len(SCHEDULE) + 1


def next_delay(attempts: int, scale: float = 1.0) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones; None: permanently failed."""
    if attempts < 1 or attempts > len(SCHEDULE):
        return None
    return SCHEDULE[attempts - 1] * scale
