"""What `cortex up` starts: the services and the emulated networks, each in one table."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

# Start order matters only for speed: each service waits for what it needs anyway.
SERVICES = ["scheduler", "provider-akash", "gateway"]


def service_module(name: str) -> str:
    """`provider-akash` → `cortex_provider_akash`."""
    return "cortex_" + name.replace("-", "_")


def enabled_services() -> list[str]:
    """`CORTEX_SERVICES` (comma list) overrides the table, e.g. for tests."""
    override = os.environ.get("CORTEX_SERVICES")
    if override is None:
        return list(SERVICES)
    return [s.strip() for s in override.split(",") if s.strip()]


def _akash_argv(port: int, api_key: str, work_dir: Path) -> list[str]:
    argv = [
        sys.executable, "-m", "devnets.akash",
        "--host", "127.0.0.1", "--port", str(port),
        "--api-key", api_key, "--work-dir", str(work_dir),
    ]  # fmt: skip
    if os.environ.get("CORTEX_DEVNET_ZERO_DELAY", "").lower() in ("1", "true", "yes"):
        argv.append("--zero-delay")
    return argv


DevnetArgv = Callable[[int, str, Path], list[str]]
DEVNETS: dict[str, DevnetArgv] = {"akash": _akash_argv}


def enabled_devnets() -> list[str]:
    """`CORTEX_DEVNETS` (comma list, empty for none) overrides the table."""
    override = os.environ.get("CORTEX_DEVNETS")
    if override is None:
        return list(DEVNETS)
    return [d.strip() for d in override.split(",") if d.strip()]
