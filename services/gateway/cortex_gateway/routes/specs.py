"""Job specs inside other requests: validated like a job, errors named by their place."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from contracts.errors import ApiError, ErrorCode
from contracts.job import JobSpec, SpecLimits
from contracts.validation import problems


def spec_problems(
    data: Any, limits: SpecLimits, prefix: str
) -> tuple[JobSpec | None, list[dict[str, Any]]]:
    """(the spec, []) or (None, every problem with its field named `<prefix><field>`)."""
    try:
        return JobSpec.model_validate(data, context=limits), []
    except ValidationError as exc:
        return None, problems(exc, prefix)


def parse_spec(data: Any, limits: SpecLimits, prefix: str, what: str) -> JobSpec:
    """A valid spec, or a 400 naming each problem's field as `<prefix><field>`."""
    spec, found = spec_problems(data, limits, prefix)
    if spec is None:
        summary = "; ".join(f"{d['field']} {d['message']}" for d in found[:3])
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"Invalid {what}: {summary}", found)
    return spec


def spec_json(spec: JobSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True, exclude_none=True)
