import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.quantities import (
    BINARY_SUFFIXES,
    DECIMAL_SUFFIXES,
    QuantityError,
    format_bytes,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512Mi", 512 * 2**20),
        ("1Gi", 2**30),
        ("1.5Gi", 3 * 2**29),
        ("100k", 100_000),
        ("2T", 2 * 10**12),
        ("1024", 1024),
        ("1Ki", 1024),
    ],
)
def test_parses_kubernetes_quantities(text: str, expected: int) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(
    "text", ["512MB", "0", "0Mi", "-1Gi", "1.5", "abc", "", " 1Gi", "1gi", "1e3", "1m", "Mi", "0.1"]
)
def test_rejects_what_is_not_a_positive_byte_quantity(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(BINARY_SUFFIXES)))
def test_binary_suffixes_multiply_by_powers_of_two(number: int, suffix: str) -> None:
    assert parse_quantity(f"{number}{suffix}") == number * BINARY_SUFFIXES[suffix]


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(DECIMAL_SUFFIXES)))
def test_decimal_suffixes_multiply_by_powers_of_ten(number: int, suffix: str) -> None:
    assert parse_quantity(f"{number}{suffix}") == number * DECIMAL_SUFFIXES[suffix]


@given(st.integers(min_value=1, max_value=2**62))
def test_format_bytes_round_trips(value: int) -> None:
    assert parse_quantity(format_bytes(value)) == value


@given(st.text(max_size=12))
def test_garbage_never_crashes_with_anything_but_quantity_error(text: str) -> None:
    with contextlib.suppress(QuantityError):
        assert parse_quantity(text) > 0
