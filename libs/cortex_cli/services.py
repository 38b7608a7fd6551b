"""What `cortex up` starts: the services and the emulated networks, each in one table."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# Start order matters only for speed: each service waits for what it needs anyway.
SERVICES = [
    "scheduler",
    "provider-akash",
    "provider-render",
    "provider-golem",
    "notifier",
    "gateway",
]


def service_module(name: str) -> str:
    """`provider-akash` → `cortex_provider_akash`."""
    return "cortex_" + name.replace("-", "_")


def enabled_services() -> list[str]:
    """`CORTEX_SERVICES` (comma list) overrides the table, e.g. for tests."""
    override = os.environ.get("CORTEX_SERVICES")
    if override is None:
        return list(SERVICES)
    return [s.strip() for s in override.split(",") if s.strip()]


DevnetArgv = Callable[[int, str], list[str]]


def _devnet_argv(module: str, key_flag: str) -> DevnetArgv:
    """`python -m devnets.<network> --port P <key flag> K [--zero-delay]`; no `--work-dir`:
    the devnet makes its workloads' scratch dir itself (RAM-backed when there is room) and
    removes it when it stops (decision 67)."""

    def argv(port: int, key: str) -> list[str]:
        args = [
            sys.executable, "-m", module,
            "--host", "127.0.0.1", "--port", str(port),
            key_flag, key,
        ]  # fmt: skip
        if os.environ.get("CORTEX_DEVNET_ZERO_DELAY", "").lower() in ("1", "true", "yes"):
            args.append("--zero-delay")
        return args

    return argv


# Render runs now so it can be explored by hand (docs/devnets.md); its provider service comes
# with issue #3.
DEVNETS: dict[str, DevnetArgv] = {
    "akash": _devnet_argv("devnets.akash", "--api-key"),
    "render": _devnet_argv("devnets.render", "--api-key"),
    "golem": _devnet_argv("devnets.golem", "--app-key"),
}


def enabled_devnets() -> list[str]:
    """`CORTEX_DEVNETS` (comma list, empty for none) overrides the table."""
    override = os.environ.get("CORTEX_DEVNETS")
    if override is None:
        return list(DEVNETS)
    return [d.strip() for d in override.split(",") if d.strip()]
