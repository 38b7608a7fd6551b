"""One provider service: the shared runtime around one network's adapter."""

from __future__ import annotations

from typing import Any

from provider_runtime.claims import ClaimLoop
from provider_runtime.driver import Driver
from provider_runtime.health import health_monitor
from provider_runtime.network import Network
from provider_runtime.pricing import price_publisher
from provider_runtime.reporter import Reporter
from provider_runtime.rpc import serve
from provider_runtime.settings import ProviderSettings
from provider_runtime.store import DeploymentStore
from provider_runtime.telemetry import Telemetry
from provider_runtime.telemetry_pump import PumpSettings, TelemetryPump
from provider_runtime.work import WorkConsumer
from runtime.database import close_pool, create_pool
from runtime.messaging import connect, ensure_streams
from runtime.migrations import apply_migrations
from runtime.service import heartbeat


class ProviderService:
    """Work consumer → store → claim loop → driver → network; plus health, prices, extend."""

    def __init__(
        self, settings: ProviderSettings, network: Network, migrations: str | None = None
    ) -> None:
        self.settings, self.network = settings, network
        self._migrations = migrations  # the adapter's own package migrations, if any

    async def start(self) -> None:
        s, name = self.settings, self.network.name
        self.pool: Any = await create_pool(s.database_url, s.db_pool_min, s.db_pool_max)
        if self._migrations:
            await apply_migrations(self.pool, self._migrations, name)
        self.store = DeploymentStore(self.pool, name)
        await self.store.migrate()
        self.nc = await connect(s.nats_url, f"{s.service_name}:{s.instance_id}")
        self.js = self.nc.jetstream()
        await ensure_streams(self.js)
        await self.network.open()
        self.telemetry: TelemetryPump | None = None
        if isinstance(self.network, Telemetry):
            pump = PumpSettings(
                metrics_interval=s.metrics_interval, drain_timeout=s.log_drain_timeout
            )
            self.telemetry = TelemetryPump(self.js, self.network, pump)
        self.driver = Driver(self.network, self.store, Reporter(self.js, name), self.telemetry)
        self.claims = ClaimLoop(
            self.store,
            self.driver,
            s.instance_id,
            s.max_active_deployments,
            s.claim_ttl,
            s.claim_interval,
        )
        self.work = WorkConsumer(self.js, name, self.store, self.claims, self.driver.cancel)
        self.health = health_monitor(self.nc, self.network, s.health_interval)
        self.prices = price_publisher(self.js, self.network, s.price_refresh)
        self.heartbeat = heartbeat(self.nc, s.service_name, s.instance_id, s.heartbeat_interval)
        self.prices.start()
        self.health.start()
        self.claims.start()
        await self.work.start()
        self.rpc = await serve(self.nc, self.network, self.store)
        self.heartbeat.start()

    async def stop(self) -> None:
        await self.heartbeat.stop()
        await self.rpc.unsubscribe()
        await self.work.stop()
        await self.claims.stop()
        if self.telemetry:
            await self.telemetry.stop()
        await self.prices.stop()
        await self.health.stop()
        await self.network.close()
        await self.nc.drain()
        await close_pool(self.pool)
