"""UTC timestamps as the API shows them: ISO-8601 ending in `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_time(value: datetime | None) -> str | None:
    """`2025-07-10T12:34:56Z`, or with milliseconds when the instant has them."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond // 1000 else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 instant; a value without an offset is taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
