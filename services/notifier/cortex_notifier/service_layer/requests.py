"""What the Webhooks API accepts, validated here because the notifier owns the rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from contracts.timefmt import parse_time
from contracts.webhooks import EVENT_TYPES, WILDCARDS, is_subscribable
from cortex_notifier.domain.model import DeliveryStatus

Name = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Secret = Annotated[StrictStr, StringConstraints(min_length=16, max_length=256)]
Events = Annotated[list[StrictStr], Field(min_length=1, max_length=64)]
MAX_LIMIT = 100


def _known_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if not is_subscribable(e)]
    if unknown:
        raise ValueError(
            f"unknown event type {unknown[0]!r}; one of {', '.join((*EVENT_TYPES, *WILDCARDS))}"
        )
    return sorted(set(events))


class CreateWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    url: StrictStr
    events: Events
    secret: Secret | None = None
    enabled: StrictBool = True

    _events = field_validator("events")(_known_events)


class UpdateWebhook(BaseModel):
    """PUT: the fields given are changed; a new `secret` rotates it."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    url: StrictStr | None = None
    events: Events | None = None
    secret: Secret | None = None
    enabled: StrictBool | None = None

    @field_validator("events")
    @classmethod
    def _events(cls, events: list[str] | None) -> list[str] | None:
        return None if events is None else _known_events(events)

    @model_validator(mode="after")
    def _something(self) -> UpdateWebhook:
        if not self.model_fields_set:
            raise ValueError("give at least one of name, url, events, secret, enabled")
        return self


class TestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    event_type: StrictStr = Field(default="job.completed", alias="eventType")

    @field_validator("event_type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise ValueError(f"unknown event type {value!r}; one of {', '.join(EVENT_TYPES)}")
        return value


def _status_list(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    statuses = tuple(s.strip() for s in value.split(",") if s.strip())
    allowed = {s.value for s in DeliveryStatus}
    if not statuses or any(s not in allowed for s in statuses):
        raise ValueError(f"must be one or more of {', '.join(sorted(allowed))} (comma-separated)")
    return statuses


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError("must be an ISO-8601 time such as 2025-07-10T12:00:00Z") from None


class HistoryParams(BaseModel):
    """Query parameters of `GET /webhooks/:id/history` (strings, as they come in a URL)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: StrictStr | None = None
    from_: StrictStr | None = Field(default=None, alias="from")
    to: StrictStr | None = None
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 20

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        _status_list(value)
        return value

    @field_validator("from_", "to")
    @classmethod
    def _times(cls, value: str | None) -> str | None:
        _time(value)
        return value

    @property
    def statuses(self) -> tuple[str, ...]:
        return _status_list(self.status)

    @property
    def created_from(self) -> datetime | None:
        return _time(self.from_)

    @property
    def created_to(self) -> datetime | None:
        return _time(self.to)


class PageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 20
