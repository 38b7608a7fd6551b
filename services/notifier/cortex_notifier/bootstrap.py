"""Wire the notifier: secrets, database, NATS, sender, dispatcher and entry points."""

from __future__ import annotations

from typing import Any

from nats.aio.msg import Msg

from contracts import subjects
from cortex_notifier.adapters.deliveries import DeliveryRepository
from cortex_notifier.adapters.sender import Sender
from cortex_notifier.adapters.webhooks import WebhookRepository
from cortex_notifier.entrypoints import rpc
from cortex_notifier.entrypoints.events import ListeningGate, event_consumer
from cortex_notifier.entrypoints.timers import retention
from cortex_notifier.service_layer.attempts import Attempter
from cortex_notifier.service_layer.dispatcher import Dispatcher
from cortex_notifier.service_layer.fanout import FanOut
from cortex_notifier.service_layer.recorder import Recorder
from cortex_notifier.service_layer.webhooks import Webhooks
from cortex_notifier.settings import NotifierSettings
from runtime.background import every
from runtime.database import close_pool, create_pool
from runtime.logging import get_logger
from runtime.messaging import connect, ensure_streams
from runtime.migrations import apply_migrations
from runtime.secretbox import SecretBox, SecretBoxError
from runtime.service import heartbeat
from runtime.settings import ServiceSettings

log = get_logger(__name__)


class NotifierService:
    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        key = settings.secrets_key.get_secret_value() if settings.secrets_key else None
        self.box = SecretBox(key)  # no key, no start: secrets are never stored in plain text

    @property
    def lease(self) -> float:
        """How long a claimed delivery stays invisible: longer than any attempt takes."""
        return self.settings.webhook_timeout * 1.5 + 5.0

    async def start(self) -> None:
        s = self.settings
        if s.webhook_allow_private_urls:
            log.warning("notifier.private_urls_allowed")
        self.pool: Any = await create_pool(s.database_url, s.db_pool_min, s.db_pool_max)
        await apply_migrations(self.pool, "cortex_notifier", "notifier")
        self.nc = await connect(s.nats_url, f"notifier:{s.instance_id}")
        self.js = self.nc.jetstream()
        await ensure_streams(self.js)
        self.sender = Sender(s.webhook_timeout, s.webhook_allow_private_urls)
        await self.sender.start()
        webhooks, deliveries = WebhookRepository(self.pool), DeliveryRepository(self.pool)
        self.recorder = Recorder(deliveries, s.webhook_retry_scale)
        attempter = Attempter(self.recorder, self.box, self.sender)
        self.dispatcher = Dispatcher(
            deliveries,
            attempter,
            s.webhook_endpoint_concurrency,
            s.webhook_max_in_flight,
            s.webhook_dispatch_batch,
            s.webhook_poll_interval,
            self.lease,
        )
        self.webhooks = Webhooks(
            webhooks, deliveries, self.box, self.sender, attempter,
            s.webhook_allow_private_urls, self.lease,
        )  # fmt: skip
        fan_out = FanOut(webhooks, deliveries)
        self.gate = ListeningGate(webhooks, s.webhook_event_batch)
        self.events = event_consumer(
            self.js, fan_out, s.webhook_event_batch, self.dispatcher.wake, self.gate
        )
        self.gate_check = every(s.webhook_idle_check, self.gate.check, "webhooks-gate")
        self.retention = retention(
            deliveries, s.webhook_retention_days, min(3600.0, s.webhook_retention_days * 8640)
        )
        self.heartbeat = heartbeat(self.nc, s.service_name, s.instance_id, s.heartbeat_interval)
        self.recorder.start()
        self.dispatcher.start()
        self.rpc_subscriptions = await rpc.serve(self.nc, self.webhooks, self._webhook_created)
        self.rpc_subscriptions.append(
            await self.nc.subscribe(subjects.WEBHOOKS_CHANGED, cb=self._told_of_webhook)
        )
        await self.gate.check()
        await self.events.start()
        self.retention.start()
        self.gate_check.start()
        self.heartbeat.start()

    async def stop(self) -> None:
        """Stop taking work, let attempts in flight finish briefly, make the rest due, close."""
        await self.heartbeat.stop()
        for subscription in self.rpc_subscriptions:
            await subscription.unsubscribe()
        await self.events.stop()
        await self.gate_check.stop()
        await self.retention.stop()
        await self.dispatcher.stop(grace=min(2.0, self.settings.shutdown_grace / 2))
        await self.recorder.stop()
        await self.sender.stop()
        await self.nc.drain()
        await close_pool(self.pool)

    async def _webhook_created(self) -> None:
        self.gate.open()
        try:  # the other replicas may have stopped reading EVENTS: they start again
            await self.nc.publish(subjects.WEBHOOKS_CHANGED, b"")
        except Exception:  # their periodic check finds it within webhook_idle_check
            log.warning("notifier.webhooks_changed_not_sent", exc_info=True)

    async def _told_of_webhook(self, _msg: Msg) -> None:
        self.gate.open()


def build(settings: ServiceSettings) -> NotifierService:
    assert isinstance(settings, NotifierSettings)
    try:
        return NotifierService(settings)
    except SecretBoxError as exc:
        raise SystemExit(f"notifier: {exc}") from None
