"""`python -m devnets.golem`: serve the Golem devnet until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from devnets.golem.app import start_golem_devnet
from devnets.golem.settings import GolemDevnetSettings


def parse_args(argv: list[str] | None = None) -> GolemDevnetSettings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(prog="python -m devnets.golem", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--app-key", default=GolemDevnetSettings().app_key)
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument(
        "--zero-delay", action="store_true", help="offers, approvals and deploys happen at once"
    )
    parser.add_argument(
        "--debit-note-interval",
        type=float,
        default=None,
        help="seconds between debit notes (default: the demand's interval-sec, else 120)",
    )
    args = parser.parse_args(argv)
    return GolemDevnetSettings(
        host=args.host,
        port=args.port,
        app_key=args.app_key,
        work_dir=args.work_dir,
        zero_delay=args.zero_delay,
        debit_note_interval_seconds=args.debit_note_interval,
    )


async def serve(settings: GolemDevnetSettings) -> None:
    """Run until a termination signal, then stop every process."""
    devnet = await start_golem_devnet(settings)
    print(f"golem devnet listening on {devnet.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await devnet.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
