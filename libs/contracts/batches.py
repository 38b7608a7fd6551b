"""Batches, templates and schedules as the API accepts them."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from contracts.job import CamelModel

# One transaction and one NATS request carry the whole batch; see docs/operations.md.
MAX_BATCH_JOBS = 1000
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000


def new_batch_id() -> str:
    return f"bat_{secrets.token_hex(10)}"


def new_template_id() -> str:
    return f"tpl_{secrets.token_hex(10)}"


def new_schedule_id() -> str:
    return f"sch_{secrets.token_hex(10)}"


class BatchRequest(BaseModel):
    """`{jobs, concurrency}`: the jobs themselves are validated one by one (errors name the
    index), so here they are only objects."""

    model_config = ConfigDict(extra="forbid")

    jobs: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH_JOBS)]
    concurrency: Annotated[StrictInt, Field(ge=1)] | None = None


class TemplateRequest(CamelModel):
    """`{name, description, config}`; `config` is validated as a job spec separately."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
    description: Annotated[StrictStr, Field(max_length=MAX_DESCRIPTION_LENGTH)] = ""
    config: dict[str, Any]


class FromTemplateRequest(CamelModel):
    overrides: dict[str, Any] = Field(default_factory=dict)


def check_cron(value: str) -> str:
    """5 fields (minute hour day month weekday), or 6 with seconds last (croniter's form)."""
    if len(value.split()) not in (5, 6) or not croniter.is_valid(value):
        raise ValueError(
            "must be a cron expression of 5 fields (minute hour day-of-month month "
            "day-of-week), e.g. '0 3 * * *', or 6 with seconds last"
        )
    return value


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as 'UTC' or 'Europe/Berlin'") from None
    return value


def next_due(cron: str, timezone: str, after: datetime) -> datetime:
    """The first time strictly after `after` that `cron` names, read in `timezone`."""
    due: datetime = croniter(cron, after.astimezone(ZoneInfo(timezone))).get_next(datetime)
    return due


class ScheduleRequest(CamelModel):
    """A cron schedule of a full job spec (`config`) or of a template plus `overrides`."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
    cron: StrictStr
    timezone: StrictStr = "UTC"
    template_id: StrictStr | None = None
    overrides: dict[str, Any] | None = None
    config: dict[str, Any] | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)
