"""`python -m devnets.akash`: serve the Akash devnet until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from devnets.akash.app import start_akash_devnet
from devnets.akash.settings import AkashDevnetSettings


def parse_args(argv: list[str] | None = None) -> AkashDevnetSettings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(prog="python -m devnets.akash", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--api-key", default=AkashDevnetSettings().api_key)
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--zero-delay", action="store_true", help="providers bid at once")
    parser.add_argument("--block-seconds", type=float, default=None)
    parser.add_argument("--acceleration", type=float, default=1.0)
    parser.add_argument("--finite-funds", action="store_true", help="leases can run out of funds")
    args = parser.parse_args(argv)
    options = {
        "host": args.host,
        "port": args.port,
        "api_key": args.api_key,
        "work_dir": args.work_dir,
        "zero_delay": args.zero_delay,
        "acceleration": args.acceleration,
        "finite_funds": args.finite_funds,
    }
    if args.block_seconds is not None:
        options["block_seconds"] = args.block_seconds
    return AkashDevnetSettings.model_validate(options)


async def serve(settings: AkashDevnetSettings) -> None:
    """Run until a termination signal, then stop every workload."""
    devnet = await start_akash_devnet(settings)
    print(f"akash devnet listening on {devnet.url}", flush=True)
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
