"""Exe-script parsing and the result/event shapes of a batch."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from devnets.feed import Feed
from devnets.golem.http import ApiError, iso, now

COMMANDS = ("deploy", "start", "run", "transfer", "terminate", "sign")
EVENT_CAPACITY = 100_000


@dataclass(frozen=True)
class Command:
    """One exe-script command: its name and its argument object."""

    name: str
    args: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Back to the `{name: {...}}` form."""
        return {self.name: self.args}


@dataclass(frozen=True)
class CommandResult:
    """ya-client's ExeScriptCommandResult; `returnCode` is a devnet extension for `run`."""

    index: int
    result: Literal["Ok", "Error"]
    stdout: str | None = None
    stderr: str | None = None
    message: str | None = None
    is_batch_finished: bool = False
    return_code: int | None = None
    event_date: datetime = field(default_factory=now)

    def to_json(self) -> dict[str, Any]:
        """The JSON element of GET .../exec/{batchId}."""
        body: dict[str, Any] = {
            "index": self.index,
            "eventDate": iso(self.event_date),
            "result": self.result,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "message": self.message,
            "isBatchFinished": self.is_batch_finished,
        }
        if self.return_code is not None:
            body["returnCode"] = self.return_code
        return body


@dataclass
class Batch:
    """A submitted exe-script: its commands, results so far and runtime events (SSE)."""

    batch_id: str
    commands: list[Command]
    results: Feed[CommandResult] = field(default_factory=lambda: Feed(EVENT_CAPACITY))
    events: Feed[dict[str, Any]] = field(default_factory=lambda: Feed(EVENT_CAPACITY))

    @property
    def finished(self) -> bool:
        """True once the last result (isBatchFinished) is in."""
        return self.results.closed

    def emit(self, index: int, kind: dict[str, Any]) -> None:
        """A runtime event; snake_case like the Rust model."""
        event = {"batch_id": self.batch_id, "index": index, "timestamp": iso(now()), "kind": kind}
        self.events.append(event)

    def record(self, result: CommandResult) -> None:
        """Append a result; the batch ends with the one marked isBatchFinished."""
        self.results.append(result)
        if result.is_batch_finished:
            self.results.close()
            self.events.close()


def parse_script(body: dict[str, Any]) -> list[Command]:
    """`{text: "<JSON array>"}` -> commands, or a 400."""
    text = body.get("text")
    if not isinstance(text, str):
        raise ApiError(400, "exec body must be {text: '<JSON array of commands>'}")
    try:
        items = json.loads(text)
    except ValueError:
        raise ApiError(400, "exe-script text is not JSON") from None
    if not isinstance(items, list) or not items:
        raise ApiError(400, "exe-script must be a non-empty JSON array")
    return [_command(item) for item in items]


def _command(item: Any) -> Command:
    if not isinstance(item, dict) or len(item) != 1:
        raise ApiError(400, f"each command must be an object with one key, got {item!r}")
    ((name, args),) = item.items()
    if name not in COMMANDS:
        raise ApiError(400, f"unknown exe-script command {name!r}")
    if not isinstance(args, dict):
        raise ApiError(400, f"arguments of {name!r} must be an object")
    return Command(name, args)
