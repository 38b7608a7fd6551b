"""Turn pydantic validation errors into the `details` list of a VALIDATION_ERROR."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contracts.errors import ApiError, ErrorCode

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "int_type": "must be an integer",
    "string_type": "must be a string",
    "bool_type": "must be a boolean",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "literal_error": "must be one of the allowed values",
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("ports", 0, "port")` → `ports[0].port`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def problems(error: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    """One `{field, rule, message}` per problem pydantic found."""
    found = []
    for item in error.errors(include_url=False):
        path = field_path(tuple(item["loc"]))
        message = _MESSAGES.get(item["type"]) or str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "literal_error":
            message = str(item["msg"]).lower()
        found.append({"field": f"{prefix}{path}", "rule": item["type"], "message": message})
    return found


def validation_error(error: ValidationError, what: str = "request body") -> ApiError:
    details = problems(error)
    summary = "; ".join(f"{d['field']} {d['message']}" for d in details[:3])
    return ApiError(ErrorCode.VALIDATION_ERROR, f"Invalid {what}: {summary}", details)


def parse_model(model: type[M], data: Any, context: Any = None, what: str = "request body") -> M:
    """Validate `data` as `model`, raising a VALIDATION_ERROR naming every offending field."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise validation_error(exc, what) from None
