"""Child processes that are restarted when they die, with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cortex_cli.logs import log_size

BACKOFF_START, BACKOFF_MAX, STABLE_AFTER = 0.5, 10.0, 30.0


class Supervised:
    """One named process: started, watched, restarted, stopped."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        on_restart: Callable[[Supervised], None] = lambda _: None,
    ) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self._on_restart = on_restart
        self.process: asyncio.subprocess.Process | None = None
        self.log_offset = log_size(log_path)  # where this run's output starts
        self.restarts = 0
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def start(self) -> None:
        """Spawn the process and keep it alive until `terminate`."""
        await self._spawn()
        self._watch = asyncio.get_running_loop().create_task(self._keep_alive())

    async def _spawn(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.argv,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # Ctrl-C goes to `cortex up`, which stops us in order
            )

    async def _keep_alive(self) -> None:
        delay = BACKOFF_START
        while not self._stopping:
            assert self.process is not None
            started = time.monotonic()
            code = await self.process.wait()
            if self._stopping:
                return
            if time.monotonic() - started > STABLE_AFTER:
                delay = BACKOFF_START
            print(
                f"cortex: {self.name} exited with {code}; restarting in {delay:g} s",
                file=sys.stderr,
                flush=True,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)
            if self._stopping:
                return
            await self._spawn()
            self.restarts += 1
            self._on_restart(self)

    def terminate(self) -> None:
        """Stop restarting and send SIGTERM."""
        self._stopping = True
        if self.process and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    async def wait_stopped(self, timeout: float) -> None:
        """Wait for the exit; kill what is left after `timeout`."""
        if self._watch:
            self._watch.cancel()
        if self.process is None or self.process.returncode is not None:
            return
        try:
            await asyncio.wait_for(self.process.wait(), timeout=timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
