"""`cortex up` as a real subprocess: used by the end-to-end tests and the benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Fast but real: bids at once, no waiting for cheaper bids, short polls.
FAST_ENV = {
    "CORTEX_DEVNET_ZERO_DELAY": "1",
    "CORTEX_AKASH_BID_COLLECT": "0",
    "CORTEX_AKASH_POLL_INTERVAL": "0.1",
    "CORTEX_AKASH_STATUS_INTERVAL": "0.5",
    "CORTEX_LOG_LEVEL": "info",
}


@dataclass
class CortexProcess:
    """A running `cortex up`: its output so far, its admin key, its cortex.json."""

    process: asyncio.subprocess.Process
    data_dir: Path
    port: int
    key: str
    output: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manifest(self) -> dict[str, Any]:
        """cortex.json as it is now (rewritten when a service restarts)."""
        data: dict[str, Any] = json.loads((self.data_dir / "cortex.json").read_text())
        return data

    def pids(self) -> dict[str, int]:
        return {name: s["pid"] for name, s in self.manifest()["services"].items()}

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Signal `cortex up` and wait for its exit code; SIGKILL and TimeoutError if it hangs."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        if self._reader:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        return code


async def _pump(cortex: CortexProcess) -> None:
    assert cortex.process.stdout is not None
    async for line in cortex.process.stdout:
        cortex.output.append(line.decode(errors="replace").rstrip())


async def start_cortex(
    data_dir: Path,
    port: int,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    fast: bool = True,
    api_key: str | None = None,
) -> CortexProcess:
    """Start `cortex up` and wait for its ready line; fails with its output if it never comes."""
    key_args = ["--api-key", api_key] if api_key else []
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cortex_cli", "up", "--data-dir", str(data_dir), "--port", str(port),
        *key_args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(FAST_ENV if fast else {}), **(env or {})},
    )  # fmt: skip
    cortex = CortexProcess(process, data_dir, port, key="")
    cortex._reader = asyncio.get_running_loop().create_task(_pump(cortex))
    try:
        async with asyncio.timeout(timeout):
            while not any(line.startswith("API key: ") for line in cortex.output):
                if process.returncode is not None:
                    raise AssertionError("cortex up exited:\n" + "\n".join(cortex.output))
                await asyncio.sleep(0.1)
    except TimeoutError:
        with contextlib.suppress(TimeoutError):  # SIGTERM so it stops what it started
            await cortex.stop(signal.SIGTERM)
        raise AssertionError("cortex up never got ready:\n" + "\n".join(cortex.output)) from None
    cortex.key = next(line for line in cortex.output if line.startswith("API key: ")).split(
        ": ", 1
    )[1]
    return cortex
