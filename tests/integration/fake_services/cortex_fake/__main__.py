"""`cortex run fake`: 200 on /healthz and its CORTEX_* environment on /env, until SIGTERM.

With CORTEX_FAKE_CRASH=1 it logs an error and exits at once, as a broken service would.
"""

from __future__ import annotations

import asyncio
import os
import signal

from aiohttp import web


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def env(_: web.Request) -> web.Response:
    """What `cortex up` handed this process, so tests can check it."""
    return web.json_response({k: v for k, v in os.environ.items() if k.startswith("CORTEX_")})


async def serve() -> None:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/env", env)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["CORTEX_HTTP_PORT"])).start()
    print(f"fake service {os.getpid()} serving", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    if os.environ.get("CORTEX_FAKE_CRASH") == "1":
        raise SystemExit("ERROR fake service: cannot start (CORTEX_FAKE_CRASH=1)")
    asyncio.run(serve())


if __name__ == "__main__":
    main()
