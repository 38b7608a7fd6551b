"""Scaffolding shared by the devnets: serve an aiohttp app on host/port, work dirs, the CLI."""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TypeVar

import uvloop
from aiohttp import web

from devnets.scratch import make_scratch_dir

SettingsT = TypeVar("SettingsT")


class RunningDevnet(Protocol):
    """What the CLI needs from a started devnet."""

    @property
    def url(self) -> str: ...

    async def stop(self) -> None: ...


def work_dir_or_temp(work_dir: Path | None, name: str) -> tuple[Path, Path | None]:
    """The work dir to use, and the scratch dir made for it (None when `work_dir` was given)."""
    temp_dir = None if work_dir else make_scratch_dir(name)
    chosen = work_dir or temp_dir
    assert chosen is not None
    return chosen, temp_dir


async def serve_app(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve `app` on host/port (0 = any free port); the runner and the real base URL."""
    # No access log: nothing prints it (logging is not configured), yet aiohttp would build
    # an access logger for every connection, and every job opens two (its websockets).
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    # A burst of connections must not overflow the accept queue (aiohttp's default is 128):
    # a dropped SYN costs the client a one-second retransmission (decision 74).
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    return runner, f"http://{host}:{_bound_port(site)}"


async def close_server(runner: web.AppRunner, temp_dir: Path | None) -> None:
    """Stop the HTTP server, then remove the temp work dir if one was made."""
    await runner.cleanup()
    if temp_dir is not None:
        await asyncio.to_thread(shutil.rmtree, temp_dir, True)


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp exposes the listening sockets only here
    sockets: list[socket.socket] = getattr(server, "sockets", [])  # asyncio's or uvloop's
    port: int = sockets[0].getsockname()[1]
    return port


def devnet_arg_parser(
    name: str, description: str | None, key_flag: str, key_default: str
) -> argparse.ArgumentParser:
    """A parser with `--host --port <key_flag> --work-dir`; callers add their own flags."""
    parser = argparse.ArgumentParser(prog=f"python -m devnets.{name}", description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument(key_flag, default=key_default)
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp dir")
    return parser


def run_devnet_cli(
    name: str,
    settings: SettingsT,
    start: Callable[[SettingsT], Awaitable[RunningDevnet]],
) -> None:
    """Start the devnet, print where it listens, run until SIGINT/SIGTERM, then stop it."""
    # uvloop serves HTTP and websockets with less CPU; workloads are spawned with Popen
    # (vfork) and watched through pidfds, so its slower spawn is never used.
    uvloop.run(_serve(name, settings, start))


async def _serve(
    name: str,
    settings: SettingsT,
    start: Callable[[SettingsT], Awaitable[RunningDevnet]],
) -> None:
    devnet = await start(settings)
    # The devnet keeps every deployment it served, so its heap grows through a run and the
    # default thresholds had full collections walk it: 10 % of its CPU in a 1,000-job batch.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    print(f"{name} devnet listening on {devnet.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await devnet.stop()
