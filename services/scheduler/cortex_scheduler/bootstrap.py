"""Wire the scheduler: database, NATS, service layer and entry points."""

from __future__ import annotations

from typing import Any

from contracts import subjects
from contracts.job import SpecLimits
from cortex_scheduler.adapters.outbox import OutboxRelay
from cortex_scheduler.adapters.prices import PriceBook
from cortex_scheduler.adapters.telemetry_store import TelemetryStore
from cortex_scheduler.entrypoints import rpc
from cortex_scheduler.entrypoints.reports import report_consumer
from cortex_scheduler.entrypoints.telemetry import log_consumer, metrics_consumer
from cortex_scheduler.entrypoints.timers import batch_sweep, cost_alerts, schedule_timer, timers
from cortex_scheduler.service_layer.catalog import Catalog
from cortex_scheduler.service_layer.handlers import Scheduler
from cortex_scheduler.service_layer.telemetry import TelemetryReader
from cortex_scheduler.settings import SchedulerSettings
from runtime.database import close_pool, create_pool
from runtime.messaging import call_rpc, connect, ensure_streams
from runtime.migrations import apply_migrations
from runtime.service import heartbeat
from runtime.settings import ServiceSettings


class SchedulerService:
    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.prices = PriceBook()

    async def start(self) -> None:
        s = self.settings
        self.pool: Any = await create_pool(s.database_url, s.db_pool_min, s.db_pool_max)
        await apply_migrations(self.pool, "cortex_scheduler", "jobs")
        self.nc = await connect(s.nats_url, f"scheduler:{s.instance_id}")
        self.js = self.nc.jetstream()
        await ensure_streams(self.js)
        await self.prices.start(self.js)
        self.relay = OutboxRelay(self.pool, self.nc, s.outbox_batch, s.outbox_poll_interval)
        limits = SpecLimits(providers=s.provider_set, max_duration_seconds=s.max_duration_seconds)

        async def ask_provider(network: str, verb: str, body: dict[str, Any]) -> Any:
            return await call_rpc(self.nc, subjects.provider_rpc(network, verb), body, timeout=10)

        self.scheduler = Scheduler(
            self.pool,
            self.prices,
            limits,
            s.cancel_timeout,
            self.relay.committed,
            ask_provider,
            s.idempotency_ttl,
        )
        self.catalog = Catalog(self.scheduler, s.schedule_catch_up_window)
        self.batcher = rpc.CreateBatcher(self.scheduler, s.create_batch)
        self.reports = report_consumer(self.js, self.scheduler, s.report_batch)
        self.timers = timers(self.scheduler, s.timer_interval)
        self.cost_alerts = cost_alerts(self.scheduler, s.cost_threshold_list, s.cost_check_interval)
        self.background = [
            schedule_timer(self.catalog, s.schedule_interval),
            batch_sweep(self.scheduler, s.batch_sweep_interval),
        ]
        self.heartbeat = heartbeat(self.nc, s.service_name, s.instance_id, s.heartbeat_interval)
        self.relay.start()
        self.batcher.start()
        telemetry = TelemetryStore(self.pool, s.log_retention_lines)
        self.logs = log_consumer(self.js, telemetry, s.telemetry_batch)
        self.metrics = metrics_consumer(self.js, telemetry, s.telemetry_batch)
        reader = TelemetryReader(self.pool, telemetry)
        self.rpc_subscriptions = await rpc.serve(
            self.nc, self.scheduler, self.batcher, self.catalog, reader
        )
        await self.reports.start()
        await self.logs.start()
        await self.metrics.start()
        self.timers.start()
        self.cost_alerts.start()
        for task in self.background:
            task.start()
        self.heartbeat.start()

    async def stop(self) -> None:
        """Stop taking requests, finish what is in hand, relay the outbox, close."""
        await self.heartbeat.stop()
        for subscription in self.rpc_subscriptions:
            await subscription.unsubscribe()
        await self.batcher.stop()
        await self.reports.stop()
        await self.logs.stop()
        await self.metrics.stop()
        await self.timers.stop()
        await self.cost_alerts.stop()
        for task in self.background:
            await task.stop()
        await self.prices.stop()
        await self.relay.stop()
        await self.nc.drain()
        await close_pool(self.pool)


def build(settings: ServiceSettings) -> SchedulerService:
    assert isinstance(settings, SchedulerSettings)
    return SchedulerService(settings)
