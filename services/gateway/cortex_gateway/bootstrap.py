"""Wire the gateway: auth store, NATS, health monitor, HTTP server."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.job import SpecLimits
from contracts.reports import NetworkPrice
from cortex_gateway.app import create_app
from cortex_gateway.auth.keys import KeyStore
from cortex_gateway.auth.rate_limit import RateLimiter
from cortex_gateway.context import GatewayContext
from cortex_gateway.follow import LogHub
from cortex_gateway.health import HealthMonitor
from cortex_gateway.intake import CreateCoalescer
from cortex_gateway.providers import ProviderHealth
from cortex_gateway.settings import GatewaySettings
from runtime.database import close_pool, create_pool
from runtime.kv import KeyValueMirror
from runtime.logging import get_logger
from runtime.messaging import connect, ensure_streams
from runtime.migrations import apply_migrations
from runtime.service import heartbeat
from runtime.settings import ServiceSettings

log = get_logger(__name__)


class GatewayService:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.port: int | None = None

    async def start(self) -> None:
        s = self.settings
        self.pool: Any = await create_pool(s.database_url, s.db_pool_min, s.db_pool_max)
        await apply_migrations(self.pool, "cortex_gateway", "auth")
        self.nc = await connect(s.nats_url, f"gateway:{s.instance_id}")
        await ensure_streams(self.nc.jetstream())
        keys = KeyStore(self.pool, s.auth_cache_seconds)
        if s.bootstrap_api_key:
            await keys.ensure(
                s.bootstrap_api_key, "bootstrap admin", s.bootstrap_tenant, frozenset({"admin"})
            )
        health = HealthMonitor(self.nc, self.pool, s.expected_service_list, s.heartbeat_timeout)
        await health.start()
        limits = SpecLimits(
            providers=s.provider_set,
            max_cpu_millicores=s.max_cpu_millicores,
            max_duration_seconds=s.max_duration_seconds,
        )
        self.providers = ProviderHealth(s.provider_stale_after)
        await self.providers.start(self.nc.jetstream())
        self.prices = KeyValueMirror(subjects.PRICES_BUCKET, NetworkPrice.model_validate_json)
        await self.prices.start(self.nc.jetstream())
        self.intake = CreateCoalescer(self.nc, s.rpc_timeout)
        self.intake.start()
        self.logs_hub = LogHub(self.nc, s.sse_buffer_bytes)
        context = GatewayContext(
            s,
            self.nc,
            keys,
            RateLimiter(),
            health,
            limits,
            self.providers,
            self.prices,
            self.intake,
            self.logs_hub,
        )
        self.runner = web.AppRunner(create_app(context), access_log=None, shutdown_timeout=2)
        await self.runner.setup()
        site = web.TCPSite(self.runner, s.http_host, s.http_port, backlog=1024)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else s.http_port
        self.heartbeat = heartbeat(self.nc, s.service_name, s.instance_id, s.heartbeat_interval)
        self.heartbeat.start()
        log.info("gateway.listening", url=f"http://{s.http_host}:{self.port}")

    async def stop(self) -> None:
        """Finish in-flight requests, then close connections."""
        await self.heartbeat.stop()
        await self.runner.cleanup()
        await self.intake.stop()
        await self.providers.stop()
        await self.prices.stop()
        await self.nc.drain()
        await close_pool(self.pool)


def build(settings: ServiceSettings) -> GatewayService:
    assert isinstance(settings, GatewaySettings)
    return GatewayService(settings)
