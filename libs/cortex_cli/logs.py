"""Reading the log files of the processes `cortex up` started, from where this run began."""

from __future__ import annotations

import asyncio
from pathlib import Path

# Lines that mean something went wrong, in the formats our services and Python print.
ERROR_MARKERS = ("Traceback", "ERROR", "CRITICAL", "[error", "[critical", '"level": "error"')


def log_size(path: Path) -> int:
    """Where new output will start; logs are appended to across runs."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_since(path: Path, offset: int) -> str:
    """The text appended to `path` after byte `offset`."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def error_lines(path: Path, offset: int, limit: int = 3) -> list[str]:
    """The last few lines since `offset` that look like errors."""
    lines = read_since(path, offset).splitlines()
    return [line for line in lines if any(m in line for m in ERROR_MARKERS)][-limit:]


async def wait_for_line(path: Path, offset: int, text: str, timeout: float) -> None:
    """Wait until a line containing `text` is appended after `offset`; TimeoutError if never."""
    async with asyncio.timeout(timeout):
        while True:
            if text in read_since(path, offset):
                return
            await asyncio.sleep(0.1)
