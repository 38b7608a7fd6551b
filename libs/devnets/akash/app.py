"""Builds and serves the devnet: Console and control APIs (aiohttp) on one port, the
providers' gateways (their own server) on another, as real providers have hosts of their own."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from devnets.akash import console_api, control_api
from devnets.akash.console_api import NETWORK, RANDOM
from devnets.akash.gateway_server import GatewayServer
from devnets.akash.http import error_middleware
from devnets.akash.network import AkashNetwork
from devnets.akash.settings import AkashDevnetSettings
from devnets.akash.tokens import ISSUER, TokenSigner
from devnets.serving import close_server, serve_app, work_dir_or_temp


def build_app(network: AkashNetwork, seed: int | None = None) -> web.Application:
    """The aiohttp application serving Console and control routes."""
    app = web.Application(middlewares=[error_middleware, console_api.console_middleware])
    app[NETWORK] = network
    app[RANDOM] = random.Random(seed)
    console_api.add_routes(app)
    control_api.add_routes(app)
    return app


@dataclass
class AkashDevnet:
    """A running devnet; `stop()` stops every workload and the server."""

    url: str
    api_key: str
    network: AkashNetwork
    _runner: web.AppRunner
    _gateway: GatewayServer
    _temp_dir: Path | None = None
    _stopped: bool = field(default=False)

    async def move_gateways(self, secret: str) -> None:
        """The providers' gateways move to another port and sign tokens with `secret`: what
        a client cached (address, JWT) stops working; Console answers the new address."""
        await self._gateway.close()
        self._gateway = GatewayServer(self.network)
        self.network.gateway_url = await self._gateway.start(self.network.settings.host, 0)
        self.network.tokens = TokenSigner(secret, ISSUER)

    async def stop(self) -> None:
        """Stop all workloads, then the HTTP server; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        await self.network.shutdown()
        await self._gateway.close()
        await close_server(self._runner, self._temp_dir)


async def start_akash_devnet(settings: AkashDevnetSettings | None = None) -> AkashDevnet:
    """Start the devnet in this event loop; port 0 picks a free port (see `.url`)."""
    settings = settings or AkashDevnetSettings()
    work_dir, temp_dir = work_dir_or_temp(settings.work_dir, "akash")
    network = AkashNetwork(settings, work_dir)
    app = build_app(network, settings.random_seed)
    gateway = GatewayServer(network)
    network.gateway_url = await gateway.start(settings.host, settings.gateway_port)
    runner, url = await serve_app(app, settings.host, settings.port)
    network.start()
    return AkashDevnet(
        url=url,
        api_key=settings.api_key,
        network=network,
        _runner=runner,
        _gateway=gateway,
        _temp_dir=temp_dir,
    )
