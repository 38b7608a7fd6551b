"""Reading Golem property sets, which yagna may send flat (`a.b.c`) or nested.

Nested, a key that is both a value and a prefix (`golem.com.pricing.model = "linear"` beside
`golem.com.pricing.model.linear.coeffs`) keeps its value under `@tag`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def prop(properties: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """The value of a dotted `key`, looked up flat first, then through nested objects."""
    if key in properties:
        return properties[key]
    node: Any = properties
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node.get("@tag", default) if isinstance(node, Mapping) else node
