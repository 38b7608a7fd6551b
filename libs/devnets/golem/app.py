"""Builds and serves the devnet's aiohttp app (three yagna API roots, control) on one port."""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from devnets.golem import activity_api, control_api, market_api, payment_api
from devnets.golem.http import error_middleware, gate_middleware
from devnets.golem.keys import NETWORK
from devnets.golem.network import GolemNetwork
from devnets.golem.settings import GolemDevnetSettings


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
        await self._runner.cleanup()
        if self._temp_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._temp_dir, True)


async def start_golem_devnet(settings: GolemDevnetSettings | None = None) -> GolemDevnet:
    """Start the devnet in this event loop; port 0 picks a free port (see `.url`)."""
    settings = settings or GolemDevnetSettings()
    temp_dir = None if settings.work_dir else Path(tempfile.mkdtemp(prefix="golem-devnet-"))
    work_dir = settings.work_dir or temp_dir
    assert work_dir is not None
    network = GolemNetwork(settings, work_dir)
    runner = web.AppRunner(build_app(network), handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    network.start()
    return GolemDevnet(
        url=f"http://{settings.host}:{_bound_port(site)}",
        app_key=settings.app_key,
        network=network,
        _runner=runner,
        _temp_dir=temp_dir,
    )


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp exposes the listening sockets only here
    assert isinstance(server, asyncio.base_events.Server)
    sock: socket.socket = server.sockets[0]
    port: int = sock.getsockname()[1]
    return port
