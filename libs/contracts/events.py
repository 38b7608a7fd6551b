"""The envelope of every public event, and how its ids are made."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.timefmt import format_time, utcnow

SCHEMA_VERSION = 1


def new_event_id() -> str:
    """`evt_` + 12 hex digits of milliseconds + 16 random: ids sort by creation time."""
    return f"evt_{int(time.time() * 1000):012x}{os.urandom(8).hex()}"


def envelope(
    event_id: str, event_type: str, created_at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """The wire form of an event (what EventEnvelope parses back)."""
    return {
        "id": event_id,
        "type": event_type,
        "createdAt": format_time(created_at),
        "schemaVersion": SCHEMA_VERSION,
        "data": data,
    }


class EventEnvelope(BaseModel):
    """`{id, type, createdAt, schemaVersion, data}` — what NATS consumers and webhooks get."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    id: str = Field(default_factory=new_event_id)
    type: str
    created_at: datetime = Field(default_factory=utcnow, alias="createdAt")
    schema_version: int = Field(default=SCHEMA_VERSION, alias="schemaVersion")
    data: dict[str, Any]

    def to_json_dict(self) -> dict[str, Any]:
        return envelope(self.id, self.type, self.created_at, self.data)


# Events about batches, templates and schedules (subjects: subjects.resource_event).
BATCH_CREATED = "batch.created"
BATCH_COMPLETED = "batch.completed"
BATCH_CANCELLED = "batch.cancelled"
TEMPLATE_CREATED = "template.created"
TEMPLATE_UPDATED = "template.updated"
TEMPLATE_DELETED = "template.deleted"
SCHEDULE_CREATED = "schedule.created"
SCHEDULE_UPDATED = "schedule.updated"
SCHEDULE_DELETED = "schedule.deleted"
SCHEDULE_PAUSED = "schedule.paused"
SCHEDULE_RESUMED = "schedule.resumed"
SCHEDULE_TRIGGERED = "schedule.triggered"
SCHEDULE_FAILED = "schedule.failed"
