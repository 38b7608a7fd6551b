"""Log records and usage samples as they travel on the TELEMETRY stream (a public API)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# A line longer than this many UTF-8 bytes is cut and ends with CUT_MARKER: one runaway line
# (a progress bar without newlines, a base64 blob) must not become a multi-megabyte record.
MAX_LINE_BYTES = 16 * 1024
CUT_MARKER = " …[cut]"
STREAMS = frozenset({"stdout", "stderr", "system"})  # system: the network's own lines


@dataclass(frozen=True)
class LogRecord:
    """One output line of a job; `seq` orders a job's lines from 1, without gaps."""

    seq: int
    timestamp: str  # RFC 3339 UTC with microseconds
    stream: str
    line: str

    def to_json(self) -> list[Any]:
        # A compact array: a batch of thousands of lines is mostly the lines themselves.
        return [self.seq, self.timestamp, self.stream, self.line]

    @classmethod
    def from_json(cls, item: list[Any]) -> LogRecord:
        return cls(int(item[0]), str(item[1]), str(item[2]), str(item[3]))


@dataclass(frozen=True)
class UsageSample:
    """Resource use of a job's workload over the interval that ended at `timestamp`."""

    timestamp: str
    cpu_millicores: float
    memory_bytes: int
    rx_bytes: int | None  # None: the network does not measure it
    tx_bytes: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "cpuMillicores": self.cpu_millicores,
            "memoryBytes": self.memory_bytes,
            "rxBytes": self.rx_bytes,
            "txBytes": self.tx_bytes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UsageSample:
        return cls(
            str(data["timestamp"]),
            float(data["cpuMillicores"]),
            int(data["memoryBytes"]),
            None if data.get("rxBytes") is None else int(data["rxBytes"]),
            None if data.get("txBytes") is None else int(data["txBytes"]),
        )


def cut_line(line: str, limit: int = MAX_LINE_BYTES) -> str:
    """`line` if it fits in `limit` UTF-8 bytes, else its start and CUT_MARKER within it."""
    if len(line) * 4 <= limit:  # no character is longer than 4 bytes: fits, no encoding
        return line
    raw = line.encode()
    if len(raw) <= limit:
        return line
    keep = limit - len(CUT_MARKER.encode())
    return raw[:keep].decode(errors="ignore") + CUT_MARKER


def log_batch(job_id: str, records: list[LogRecord]) -> dict[str, Any]:
    """The body of one `cortex.logs.<jobId>` message: many records, oldest first."""
    return {"jobId": job_id, "records": [r.to_json() for r in records]}


def log_batch_id(job_id: str, records: list[LogRecord]) -> str:
    """`Nats-Msg-Id` of a batch: the same lines re-sent are dropped by JetStream."""
    return f"{job_id}:log:{records[0].seq}-{records[-1].seq}"


_second: list[Any] = [-1, ""]  # the last whole second formatted, and its text


def record_time_now() -> str:
    """`record_time(utcnow())` for the hot path (once per log line): the date and time
    of day are formatted once per second."""
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    if seconds != _second[0]:
        _second[:] = [seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))]
    return f"{_second[1]}.{micros:06d}Z"


def record_time(value: datetime) -> str:
    """`2025-07-10T12:34:56.123456Z`: microseconds, so lines of one millisecond stay apart."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
