"""LDAP-style market constraints (`(&(key>=value)(...))`) parsed and matched against properties."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, TypeAlias

OPERATORS = (">=", "<=", "=", ">", "<")  # two-character operators first


class ConstraintError(ValueError):
    """The constraint text does not parse."""


@dataclass(frozen=True)
class Match:
    """`(key op value)`."""

    key: str
    op: str
    value: str


@dataclass(frozen=True)
class Combine:
    """`(&...)`, `(|...)` or `(!...)`."""

    op: str
    parts: tuple[Filter, ...]


Filter: TypeAlias = "Match | Combine"


def parse(text: str) -> Filter | None:
    """Parse one filter expression; blank text means "no constraint" (None)."""
    text = text.strip()
    if not text:
        return None
    parsed, end = _filter(text, 0)
    if text[end:].strip():
        raise ConstraintError(f"unexpected text after the filter: {text[end:]!r}")
    return parsed


def parse_all(constraints: str | list[str]) -> list[Filter]:
    """A constraint string or a list of them (demand decorations), all to be satisfied."""
    texts = [constraints] if isinstance(constraints, str) else constraints
    return [f for f in (parse(t) for t in texts) if f is not None]


def satisfied(filters: list[Filter], properties: dict[str, Any]) -> bool:
    """Whether the properties satisfy every filter."""
    return all(_eval(f, properties) for f in filters)


def flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested property objects become dotted keys, as the market sees them."""
    flat: dict[str, Any] = {}
    for key, value in properties.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat |= flatten(value, name)
        else:
            flat[name] = value
    return flat


def _filter(text: str, pos: int) -> tuple[Filter, int]:
    pos = _skip_space(text, pos)
    if pos >= len(text) or text[pos] != "(":
        raise ConstraintError(f"expected '(' at {pos} in {text!r}")
    pos = _skip_space(text, pos + 1)
    if pos < len(text) and text[pos] in "&|!":
        return _combine(text, pos)
    close = text.find(")", pos)
    if close < 0:
        raise ConstraintError(f"unclosed '(' in {text!r}")
    return _match(text[pos:close].strip()), close + 1


def _combine(text: str, pos: int) -> tuple[Filter, int]:
    op = text[pos]
    pos += 1
    parts: list[Filter] = []
    while True:
        pos = _skip_space(text, pos)
        if pos >= len(text):
            raise ConstraintError(f"unclosed '({op}' in {text!r}")
        if text[pos] == ")":
            break
        part, pos = _filter(text, pos)
        parts.append(part)
    if op == "!" and len(parts) != 1:
        raise ConstraintError("'!' takes exactly one filter")
    return Combine(op, tuple(parts)), pos + 1


def _match(item: str) -> Match:
    for op in OPERATORS:
        key, sep, value = item.partition(op)
        # The first operator found wins, but "<=" must not be read as "<" then "=value".
        if sep and key.strip() and not any(o in key for o in OPERATORS):
            return Match(key.strip(), op, value.strip())
    raise ConstraintError(f"not a comparison: ({item})")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _eval(f: Filter, properties: dict[str, Any]) -> bool:
    if isinstance(f, Combine):
        results = (_eval(part, properties) for part in f.parts)
        if f.op == "&":
            return all(results)
        if f.op == "|":
            return any(results)
        return not next(results)
    if f.key not in properties:
        return False
    value = properties[f.key]
    values = value if isinstance(value, list) else [value]
    return any(_compare(v, f.op, f.value) for v in values)


def _compare(actual: Any, op: str, expected: str) -> bool:
    if op == "=" and expected == "*":
        return True  # presence
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return {
            "=": left == right,
            ">=": left >= right,
            "<=": left <= right,
            ">": left > right,
            "<": left < right,
        }[op]
    text = _text(actual)
    if op == "=":
        return fnmatch.fnmatchcase(text, expected)
    return {">=": text >= expected, "<=": text <= expected, ">": text > expected}.get(
        op, text < expected
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
