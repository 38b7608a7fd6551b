"""`page` and `limit` of list endpoints other than `GET /jobs`."""

from __future__ import annotations

from typing import Any

from cortex_gateway.responses import validation

MAX_LIMIT = 100


def page_query(params: Any) -> dict[str, Any]:
    """`{page, limit}` from the query string; anything else is a 400."""
    unknown = sorted(set(params) - {"page", "limit"})
    if unknown:
        raise validation(
            f"Unknown query parameter {unknown[0]!r}; allowed: limit, page",
            unknown[0],
            "unknown_parameter",
        )
    query = {}
    for name, default, high in (("page", 1, 1_000_000), ("limit", 20, MAX_LIMIT)):
        text = params.get(name, str(default))
        if not text.isdigit() or not 1 <= int(text) <= high:
            raise validation(f"{name} must be an integer from 1 to {high}", name, "range")
        query[name] = int(text)
    return query
