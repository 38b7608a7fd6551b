"""Which event types a webhook may subscribe to, and how a subscription matches an event."""

from __future__ import annotations

# One line per type: adding a subscribable event (batch.*, schedule.*, …) is adding it here.
EVENT_TYPES: tuple[str, ...] = (
    "job.created",
    "job.scheduled",
    "job.started",
    "job.completed",
    "job.failed",
    "job.expired",
    "job.cancel_requested",
    "job.cancelled",
    "job.extended",
    "job.cost.threshold",
    "provider.status.changed",
    "provider.pricing.changed",
    "provider.added",
    "provider.updated",
    "provider.removed",
    "batch.created",
    "batch.completed",
    "batch.cancelled",
    "template.created",
    "template.updated",
    "template.deleted",
    "schedule.created",
    "schedule.updated",
    "schedule.deleted",
    "schedule.paused",
    "schedule.resumed",
    "schedule.triggered",
    "schedule.failed",
)

# `job.*` subscribes to every job event, present and future; likewise `provider.*`.
WILDCARDS: tuple[str, ...] = tuple(sorted({f"{t.split('.', 1)[0]}.*" for t in EVENT_TYPES}))


def is_subscribable(pattern: str) -> bool:
    """A known event type, or a `<family>.*` wildcard over a known family."""
    return pattern in EVENT_TYPES or pattern in WILDCARDS


def matches(pattern: str, event_type: str) -> bool:
    """`job.*` matches `job.completed` and `job.cost.threshold`; others match exactly."""
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def subscribed(patterns: list[str] | tuple[str, ...], event_type: str) -> bool:
    return any(matches(p, event_type) for p in patterns)
