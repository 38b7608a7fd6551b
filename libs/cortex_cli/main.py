"""The `cortex` command."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from pathlib import Path

from cortex_cli.services import SERVICES, enabled_services, service_module


def _run(name: str) -> None:
    """Run one service in this process: `cortex_<name>.__main__.main()`."""
    known = dict.fromkeys([*SERVICES, *enabled_services()])
    if name not in known:
        raise SystemExit(f"cortex: unknown service {name!r}; one of: {', '.join(known)}")
    module = importlib.import_module(f"{service_module(name)}.__main__")
    module.main()


def main(argv: list[str] | None = None) -> None:
    """`cortex up` or `cortex run <service>`."""
    parser = argparse.ArgumentParser(prog="cortex", description="Cortex control plane")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start everything on this machine")
    up.add_argument("--data-dir", type=Path, default=Path(".cortex"))
    up.add_argument("--port", type=int, default=13000)
    up.add_argument("--api-key", default=None, help="admin key of the default tenant")
    run = commands.add_parser("run", help="run one service in the foreground")
    run.add_argument("service")
    args = parser.parse_args(argv)
    if args.command == "up":
        from cortex_cli.up import up as start

        data_dir = args.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        raise SystemExit(asyncio.run(start(data_dir, args.port, args.api_key)))
    _run(args.service)
