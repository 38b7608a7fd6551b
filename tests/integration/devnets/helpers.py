"""What the emulator tests share: waiting on a condition, process checks, the CLI smoke test."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiohttp
import psutil


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll an async check until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


class Stoppable(Protocol):
    async def stop(self) -> None: ...


DevnetT = TypeVar("DevnetT", bound=Stoppable)


@contextlib.asynccontextmanager
async def serving(devnet: DevnetT) -> AsyncIterator[tuple[DevnetT, aiohttp.ClientSession]]:
    """A devnet a test started with its own settings, and a session to call it; stopped after."""
    try:
        async with aiohttp.ClientSession() as session:
            yield devnet, session
    finally:
        await devnet.stop()


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def assert_cli_serves_and_stops(
    network: str, key_flag: str, path: str, headers: dict[str, str], work_dir: Path
) -> None:
    """`python -m devnets.<network>` prints its URL, answers `path`, and exits 0 on SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"devnets.{network}", "--port", "0",
        key_flag, "k1", "--work-dir", str(work_dir), "--zero-delay",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
        assert line.startswith(f"{network} devnet listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        async with (
            aiohttp.ClientSession() as session,
            session.get(url + path, headers=headers) as r,
        ):
            assert r.status == 200
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
