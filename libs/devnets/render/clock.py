"""Ids and timestamps as the Render API writes them."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime, timedelta

ID_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 20  # srv-/dep-/job- ids carry 20 lowercase alphanumerics
MICROSECOND = timedelta(microseconds=1)


def new_id(prefix: str) -> str:
    """A Render-looking id such as `job-d0v1q2...`."""
    return prefix + "-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 with microseconds and `Z` (microseconds keep log paging exact)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    """An RFC 3339 time or Unix seconds; ValueError otherwise."""
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    moment = datetime.fromisoformat(value.strip().replace(" ", "+"))  # `+` arrives as space
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
