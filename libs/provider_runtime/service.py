"""One provider service: the shared runtime around one network's adapter."""

from __future__ import annotations

from typing import Any

from contracts.errors import ApiError, ErrorCode
from provider_runtime.admin import ConfigAdmin
from provider_runtime.claims import ClaimLoop
from provider_runtime.config import ProviderConfig
from provider_runtime.driver import Driver
from provider_runtime.health import health_monitor
from provider_runtime.history import History
from provider_runtime.network import Network, NetworkError, Reconfigurable
from provider_runtime.pricing import PricePublisher
from provider_runtime.reporter import Reporter
from provider_runtime.rpc import serve
from provider_runtime.settings import ProviderSettings
from provider_runtime.store import DeploymentStore
from provider_runtime.telemetry import Telemetry
from provider_runtime.telemetry_pump import PumpSettings, TelemetryPump
from provider_runtime.work import WorkConsumer
from runtime.database import close_pool, create_pool
from runtime.logging import get_logger
from runtime.messaging import connect, ensure_streams
from runtime.migrations import apply_migrations
from runtime.service import heartbeat

log = get_logger(__name__)


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
        self.history = History(self.pool, name)
        self.nc = await connect(s.nats_url, f"{s.service_name}:{s.instance_id}")
        self.js = self.nc.jetstream()
        await ensure_streams(self.js)
        self.config = ProviderConfig(self.pool, name, s)
        await self._reconfigure(initial=True)
        await self.network.open()
        self.telemetry: TelemetryPump | None = None
        if isinstance(self.network, Telemetry):
            pump = PumpSettings(
                metrics_interval=s.metrics_interval, drain_timeout=s.log_drain_timeout
            )
            self.telemetry = TelemetryPump(self.js, self.network, pump)
        self.driver = Driver(self.network, self.store, Reporter(self.nc, name), self.telemetry)
        self.claims = ClaimLoop(
            self.store,
            self.driver,
            s.instance_id,
            s.max_active_deployments,
            s.claim_ttl,
            s.claim_interval,
        )
        self.work = WorkConsumer(self.js, name, self.store, self.claims, self.driver.cancel)
        self.health = health_monitor(self.nc, self.network, s.health_interval, self.history)
        self.pricer = PricePublisher(self.js, self.network, self.history)
        self.prices = self.pricer.every(s.price_refresh)
        self.heartbeat = heartbeat(self.nc, s.service_name, s.instance_id, s.heartbeat_interval)
        self.prices.start()
        self.health.start()
        self.claims.start()
        await self.work.start()
        self.rpc = await serve(self.nc, self.network, self.store, self.history)
        self.rpc += await ConfigAdmin(self.nc, name, self.config, self._reconfigure).serve()
        self.heartbeat.start()

    async def _reconfigure(self, initial: bool = False) -> None:
        """Hand the adapter the settings with the stored overrides; refresh the price."""
        settings = await self.config.effective()
        if not isinstance(self.network, Reconfigurable):
            if not initial and await self.config.stored() is not None:
                raise ApiError(
                    ErrorCode.PROVIDER_CONFLICT,
                    f"{self.network.name} cannot take new settings while running",
                    {"id": self.network.name},
                )
            return
        await self.network.reconfigure(settings)
        if not initial:
            try:  # new endpoints or plans may change the price; the next refresh retries
                await self.pricer.publish()
            except NetworkError as exc:
                log.warning("provider.price_refresh_failed", error=exc.message)

    async def stop(self) -> None:
        await self.heartbeat.stop()
        for subscription in self.rpc:
            await subscription.unsubscribe()
        await self.work.stop()
        await self.claims.stop()
        if self.telemetry:
            await self.telemetry.stop()
        await self.prices.stop()
        await self.health.stop()
        await self.network.close()
        await self.nc.drain()
        await close_pool(self.pool)
