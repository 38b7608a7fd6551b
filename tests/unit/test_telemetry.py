"""Pure telemetry logic: line cutting, follower buffers, log parameters, Render's streams."""

from __future__ import annotations

import pytest

from contracts.errors import ApiError
from contracts.telemetry import CUT_MARKER, LogRecord, cut_line, record_time, record_time_now
from contracts.timefmt import parse_time, utcnow
from cortex_gateway.follow import Follower, sse_event
from cortex_gateway.routes.logs import log_params
from cortex_provider_render.domain.model import log_stream


def test_short_lines_are_kept_and_long_ones_cut_with_the_marker() -> None:
    assert cut_line("hello", 16) == "hello"
    cut = cut_line("é" * 100, 40)  # multi-byte: never split inside a character
    assert cut.endswith(CUT_MARKER) and len(cut.encode()) <= 40
    assert cut.removesuffix(CUT_MARKER) == "é" * len(cut.removesuffix(CUT_MARKER))


def test_a_record_round_trips_as_a_compact_array() -> None:
    record = LogRecord(3, "2025-07-10T12:00:00.000001Z", "stderr", "oops")
    assert LogRecord.from_json(record.to_json()) == record


def test_sse_event_carries_the_seq_as_id_and_the_seed_shape() -> None:
    event = sse_event(7, "2025-07-10T12:00:00Z", "stdout", "a\nb")
    assert event.startswith(b"id: 7\ndata: {") and event.endswith(b"\n\n")
    assert event.count(b"\n") == 3  # the line's newline is escaped inside the JSON


def test_a_follower_over_its_buffer_is_dropped_with_a_reason() -> None:
    follower = Follower(capacity=100)
    follower.offer([(1, b"x" * 60)])
    assert follower.take() == [(1, b"x" * 60)] and follower.dropped is None
    follower.offer([(2, b"x" * 60)])
    follower.offer([(3, b"x" * 60)])
    assert follower.dropped and "slow reader" in follower.dropped
    assert follower.take() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"tail": "-1"}, "tail"), ({"tail": "x"}, "tail"), ({"since": "soon"}, "since"),
     ({"follow": "perhaps"}, "follow"), ({"lines": "1"}, "lines")],
)  # fmt: skip
def test_bad_log_parameters_name_the_parameter(query: dict[str, str], field: str) -> None:
    with pytest.raises(ApiError) as caught:
        log_params(query)
    assert caught.value.details[0]["field"] == field


def test_log_parameters_combine() -> None:
    params = log_params({"tail": "5", "since": "2025-07-10T12:00:00+02:00", "follow": "true"})
    assert (params.tail, params.since, params.follow) == (5, "2025-07-10T10:00:00.000000Z", True)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("2026-11-29T14:12:06.348451Z", "2026-11-29T14:12:06.348451Z"),
        ("2026-11-29T14:12:06.000451Z", "2026-11-29T14:12:06.000451Z"),
        ("2026-11-29T15:12:06+01:00", "2026-11-29T14:12:06.000000Z"),
    ],
)
def test_since_keeps_microseconds_like_the_lines_it_selects(given: str, kept: str) -> None:
    """Lines carry microseconds; a `since` cut to milliseconds let in earlier lines."""
    assert log_params({"since": given}).since == kept


def test_render_system_lines_are_told_apart_from_the_workload() -> None:
    assert log_stream("==> Exited with status 0", "info") == "system"
    assert log_stream("==> Job canceled", "info") == "system"
    assert log_stream("==> my own banner", "info") == "stdout"
    assert log_stream("boom", "error") == "stderr"


def test_record_time_now_is_the_current_utc_time_in_record_format() -> None:
    before = parse_time(record_time(utcnow()))
    stamped = record_time_now()
    after = parse_time(record_time(utcnow()))
    assert len(stamped) == len("2025-07-10T12:34:56.123456Z") and stamped.endswith("Z")
    assert before <= parse_time(stamped) <= after
