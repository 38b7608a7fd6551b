"""Deep merge of template overrides, cron and time zone validation, next due times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.batches import check_cron, check_timezone, next_due
from contracts.merge import deep_merge


def test_objects_merge_key_by_key_and_nested() -> None:
    base = {"env": {"A": "1", "B": "2"}, "cpu": 1000, "nested": {"x": {"y": 1, "z": 2}}}
    merged = deep_merge(base, {"env": {"B": "20", "C": "3"}, "nested": {"x": {"z": 5}}})
    assert merged == {
        "env": {"A": "1", "B": "20", "C": "3"},
        "cpu": 1000,
        "nested": {"x": {"y": 1, "z": 5}},
    }
    assert base["env"] == {"A": "1", "B": "2"}  # the template is not changed


def test_arrays_and_scalars_replace() -> None:
    base = {"args": ["a", "b"], "ports": [{"port": 80}], "cpu": 1000, "env": {"A": "1"}}
    merged = deep_merge(base, {"args": ["c"], "ports": [], "cpu": 250, "env": "x"})
    assert merged == {"args": ["c"], "ports": [], "cpu": 250, "env": "x"}


@pytest.mark.parametrize("cron", ["0 3 * * *", "*/5 * * * 1-5", "* * * * * */2"])
def test_valid_cron(cron: str) -> None:
    assert check_cron(cron) == cron


@pytest.mark.parametrize("cron", ["61 * * * *", "* * *", "bad", "* * * * * * * *", ""])
def test_invalid_cron(cron: str) -> None:
    with pytest.raises(ValueError, match="cron expression"):
        check_cron(cron)


def test_timezones() -> None:
    assert check_timezone("Europe/Berlin") == "Europe/Berlin"
    with pytest.raises(ValueError, match="IANA"):
        check_timezone("Mars/Olympus")


def test_next_due_reads_cron_in_the_time_zone_across_dst() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29 (clocks jump 02:00 → 03:00).
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    first = next_due("30 2 * * *", "Europe/Berlin", after)
    assert first.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    second = next_due("30 2 * * *", "Europe/Berlin", first)
    assert second.astimezone(UTC) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)
    assert next_due("0 3 * * *", "UTC", after) == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
