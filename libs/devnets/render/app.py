"""Builds and serves the Render devnet's aiohttp app (REST API + control) on one port."""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from devnets.render import control_api, jobs_api, logs_api, metrics_api, services_api
from devnets.render.guard import PLATFORM, RANDOM, guard_middleware
from devnets.render.http import error_middleware
from devnets.render.platform import RenderPlatform
from devnets.render.settings import RenderDevnetSettings


def build_app(platform: RenderPlatform, seed: int | None = None) -> web.Application:
    """The aiohttp application serving every devnet route."""
    app = web.Application(middlewares=[error_middleware, guard_middleware])
    app[PLATFORM] = platform
    app[RANDOM] = random.Random(seed)
    services_api.add_routes(app)
    jobs_api.add_routes(app)
    logs_api.add_routes(app)
    metrics_api.add_routes(app)
    control_api.add_routes(app)
    return app


@dataclass
class RenderDevnet:
    """A running devnet; `stop()` stops every job's process and the server."""

    url: str
    api_key: str
    platform: RenderPlatform
    _runner: web.AppRunner
    _temp_dir: Path | None = None
    _stopped: bool = field(default=False)

    async def stop(self) -> None:
        """Stop all processes, end log streams, then the HTTP server; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        await self.platform.shutdown()
        await self._runner.cleanup()
        if self._temp_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._temp_dir, True)


async def start_render_devnet(settings: RenderDevnetSettings | None = None) -> RenderDevnet:
    """Start the devnet in this event loop; port 0 picks a free port (see `.url`)."""
    settings = settings or RenderDevnetSettings()
    temp_dir = None if settings.work_dir else Path(tempfile.mkdtemp(prefix="render-devnet-"))
    work_dir = settings.work_dir or temp_dir
    assert work_dir is not None
    platform = RenderPlatform(settings, work_dir)
    runner = web.AppRunner(
        build_app(platform, settings.random_seed), handle_signals=False, shutdown_timeout=1.0
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    platform.start()
    return RenderDevnet(
        url=f"http://{settings.host}:{_bound_port(site)}",
        api_key=settings.api_key,
        platform=platform,
        _runner=runner,
        _temp_dir=temp_dir,
    )


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp exposes the listening sockets only here
    assert isinstance(server, asyncio.base_events.Server)
    sock: socket.socket = server.sockets[0]
    port: int = sock.getsockname()[1]
    return port
