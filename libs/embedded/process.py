"""A server started as a child process, waited for, and stopped with a bounded grace."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class ServerStartError(RuntimeError):
    """The server did not come up; the message carries the end of its log."""


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: Path,
    what: str,
    timeout: float,
) -> None:
    """Poll `ready()` until true; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise ServerStartError(f"{what} exited with {process.returncode}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            process.kill()
            raise ServerStartError(f"{what} not ready after {timeout:g} s:\n{log_tail(log)}")
        time.sleep(0.05)


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(
    process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 5.0
) -> None:
    """Signal, wait up to `timeout`, then kill."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
