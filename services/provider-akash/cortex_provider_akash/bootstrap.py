"""Wire provider-akash: store, Console client, driver, claim loop, work consumer, prices."""

from __future__ import annotations

from typing import Any

import aiohttp

from cortex_provider_akash.adapters.console import ConsoleClient
from cortex_provider_akash.adapters.provider_gateway import LeaseGateway
from cortex_provider_akash.adapters.reporter import Reporter
from cortex_provider_akash.adapters.store import DeploymentStore
from cortex_provider_akash.entrypoints import rpc
from cortex_provider_akash.entrypoints.work import NETWORK, WorkConsumer
from cortex_provider_akash.service_layer.claims import ClaimLoop
from cortex_provider_akash.service_layer.driver import Driver
from cortex_provider_akash.service_layer.health import health_monitor
from cortex_provider_akash.service_layer.pricing import price_publisher
from cortex_provider_akash.settings import AkashSettings
from runtime.database import close_pool, create_pool
from runtime.messaging import connect, ensure_streams
from runtime.migrations import apply_migrations
from runtime.service import heartbeat
from runtime.settings import ServiceSettings


class AkashService:
    def __init__(self, settings: AkashSettings) -> None:
        self.settings = settings

    async def start(self) -> None:
        s = self.settings
        self.pool: Any = await create_pool(s.database_url, s.db_pool_min, s.db_pool_max)
        await apply_migrations(self.pool, "cortex_provider_akash", "akash")
        self.nc = await connect(s.nats_url, f"provider-akash:{s.instance_id}")
        self.js = self.nc.jetstream()
        await ensure_streams(self.js)
        self.console = ConsoleClient(
            s.akash_api_url, s.akash_api_key, s.akash_request_timeout, s.akash_max_retries
        )
        await self.console.open()
        self.session = aiohttp.ClientSession()
        self.store = DeploymentStore(self.pool)
        driver = Driver(
            s, self.console, LeaseGateway(self.session), self.store, Reporter(self.js, NETWORK)
        )
        self.claims = ClaimLoop(
            self.store,
            driver,
            s.instance_id,
            s.max_active_deployments,
            s.claim_ttl,
            s.claim_interval,
        )
        self.work = WorkConsumer(self.js, self.store, self.claims, driver.cancel)
        self.health = health_monitor(self.nc, self.console, s.akash_health_interval)
        self.prices = price_publisher(self.js, self.console, s.akash_price_refresh)
        self.heartbeat = heartbeat(self.nc, s.service_name, s.instance_id, s.heartbeat_interval)
        self.prices.start()
        self.health.start()
        self.claims.start()
        await self.work.start()
        self.rpc = await rpc.serve(self.nc, self.store, self.console)
        self.heartbeat.start()

    async def stop(self) -> None:
        await self.heartbeat.stop()
        await self.rpc.unsubscribe()
        await self.work.stop()
        await self.claims.stop()
        await self.prices.stop()
        await self.health.stop()
        await self.console.close()
        await self.session.close()
        await self.nc.drain()
        await close_pool(self.pool)


def build(settings: ServiceSettings) -> AkashService:
    assert isinstance(settings, AkashSettings)
    return AkashService(settings)
