"""`cortex up` as a subprocess for end-to-end tests: start, wait until ready, stop."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from cortex_cli.process import CortexProcess, start_cortex

FAKE_SERVICES = Path(__file__).resolve().parents[1] / "integration" / "fake_services"

__all__ = ["CortexProcess", "cortex_up", "fake_only_env", "run_cortex_up"]


def fake_only_env(**extra: str) -> dict[str, str]:
    """Environment for a `cortex up` that runs only the fake service and no devnet."""
    path = os.pathsep.join(p for p in (str(FAKE_SERVICES), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path, "CORTEX_SERVICES": "fake", "CORTEX_DEVNETS": "", **extra}


async def run_cortex_up(
    data_dir: Path,
    port: int,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    api_key: str | None = None,
) -> CortexProcess:
    """Start `cortex up` and return once it printed its key and wrote cortex.json."""
    cortex = await start_cortex(data_dir, port, env, timeout, api_key=api_key)
    cortex.manifest()  # written before the ready line: a missing or broken one fails here
    return cortex


@asynccontextmanager
async def cortex_up(
    data_dir: Path, port: int, env: dict[str, str] | None = None
) -> AsyncIterator[CortexProcess]:
    """`run_cortex_up` that stops `cortex up` (SIGTERM) on the way out."""
    cortex = await run_cortex_up(data_dir, port, env)
    try:
        yield cortex
    finally:
        await cortex.stop()
