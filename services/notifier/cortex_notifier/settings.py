"""Notifier settings (`CORTEX_*`)."""

from __future__ import annotations

from pydantic import SecretStr

from runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service_name: str = "notifier"
    # Fernet key sealing webhook secrets at rest; the notifier refuses to start without one.
    secrets_key: SecretStr | None = None
    # Multiplies the retry schedule (30 s, 2 min, 10 min, 30 min, 1 h); 0.01 in tests.
    webhook_retry_scale: float = 1.0
    webhook_timeout: float = 10.0
    # Loopback, private and link-local targets are refused unless this is on (local dev).
    webhook_allow_private_urls: bool = False
    # Requests in flight to one webhook at once, per notifier instance.
    webhook_endpoint_concurrency: int = 8
    # Requests in flight in total, per notifier instance.
    webhook_max_in_flight: int = 512
    webhook_dispatch_batch: int = 256
    # How often an idle dispatcher looks for due retries (new deliveries wake it at once).
    webhook_poll_interval: float = 0.5
    # Finished deliveries (and their attempts) older than this are deleted.
    webhook_retention_days: float = 30.0
    webhook_event_batch: int = 256
    # With no webhook at all, EVENTS is left unread (nothing is skipped: the durable
    # consumer keeps its place); this often the notifier looks whether one appeared in a
    # way it was not told about (a creating replica tells the others at once).
    webhook_idle_check: float = 2.0
