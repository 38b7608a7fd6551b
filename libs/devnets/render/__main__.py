"""`python -m devnets.render`: serve the Render devnet until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from devnets.render.app import start_render_devnet
from devnets.render.settings import RenderDevnetSettings


def parse_args(argv: list[str] | None = None) -> RenderDevnetSettings:
    """Settings from the command line."""
    parser = argparse.ArgumentParser(prog="python -m devnets.render", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--api-key", default=RenderDevnetSettings().api_key)
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument(
        "--zero-delay", action="store_true", help="deploys go live and jobs start at once"
    )
    args = parser.parse_args(argv)
    return RenderDevnetSettings(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        work_dir=args.work_dir,
        zero_delay=args.zero_delay,
    )


async def serve(settings: RenderDevnetSettings) -> None:
    """Run until a termination signal, then stop every job's process."""
    devnet = await start_render_devnet(settings)
    print(f"render devnet listening on {devnet.url}", flush=True)
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
