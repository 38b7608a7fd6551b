"""Builds and serves the Render devnet's aiohttp app (REST API + control) on one port."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from devnets.render import control_api, jobs_api, logs_api, metrics_api, services_api
from devnets.render.guard import PLATFORM, RANDOM, guard_middleware
from devnets.render.http import error_middleware
from devnets.render.platform import RenderPlatform
from devnets.render.settings import RenderDevnetSettings
from devnets.serving import close_server, serve_app, work_dir_or_temp


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
        await close_server(self._runner, self._temp_dir)


async def start_render_devnet(settings: RenderDevnetSettings | None = None) -> RenderDevnet:
    """Start the devnet in this event loop; port 0 picks a free port (see `.url`)."""
    settings = settings or RenderDevnetSettings()
    work_dir, temp_dir = work_dir_or_temp(settings.work_dir, "render")
    platform = RenderPlatform(settings, work_dir)
    runner, url = await serve_app(
        build_app(platform, settings.random_seed), settings.host, settings.port
    )
    platform.start()
    return RenderDevnet(
        url=url,
        api_key=settings.api_key,
        platform=platform,
        _runner=runner,
        _temp_dir=temp_dir,
    )
