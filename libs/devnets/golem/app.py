"""Builds and serves the devnet's aiohttp app (three yagna API roots, control) on one port."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from devnets.golem import activity_api, control_api, market_api, payment_api
from devnets.golem.http import error_middleware, gate_middleware
from devnets.golem.keys import NETWORK
from devnets.golem.network import GolemNetwork
from devnets.golem.settings import GolemDevnetSettings
from devnets.serving import close_server, serve_app, work_dir_or_temp


def build_app(network: GolemNetwork) -> web.Application:
    """The aiohttp application serving every devnet route."""
    gate = gate_middleware(
        network.settings.app_key,
        lambda: network.faults,
        random.Random(network.settings.random_seed),
    )
    app = web.Application(middlewares=[error_middleware, gate])
    app[NETWORK] = network
    market_api.add_routes(app)
    activity_api.add_routes(app)
    payment_api.add_routes(app)
    control_api.add_routes(app)
    return app


@dataclass
class GolemDevnet:
    """A running devnet; `stop()` stops every process and the server."""

    url: str
    app_key: str
    network: GolemNetwork
    _runner: web.AppRunner
    _temp_dir: Path | None = None
    _stopped: bool = field(default=False)

    async def stop(self) -> None:
        """Stop all processes, then the HTTP server; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        await self.network.shutdown()
        await close_server(self._runner, self._temp_dir)


async def start_golem_devnet(settings: GolemDevnetSettings | None = None) -> GolemDevnet:
    """Start the devnet in this event loop; port 0 picks a free port (see `.url`)."""
    settings = settings or GolemDevnetSettings()
    work_dir, temp_dir = work_dir_or_temp(settings.work_dir, "golem")
    network = GolemNetwork(settings, work_dir)
    runner, url = await serve_app(build_app(network), settings.host, settings.port)
    network.start()
    return GolemDevnet(
        url=url,
        app_key=settings.app_key,
        network=network,
        _runner=runner,
        _temp_dir=temp_dir,
    )
