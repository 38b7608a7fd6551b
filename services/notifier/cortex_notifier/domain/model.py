"""Webhooks, deliveries and attempts as the notifier holds them."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.signatures import SECRET_PREFIX


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not attempted yet
    RETRYING = "retrying"  # failed at least once, another attempt is scheduled
    DELIVERED = "delivered"
    FAILED = "failed"  # permanently: the retry schedule is used up


def new_webhook_id() -> str:
    return f"wh_{secrets.token_hex(8)}"


def new_delivery_id() -> str:
    return f"dlv_{secrets.token_hex(10)}"


def generate_secret() -> str:
    """`whsec_` + base64 of 32 random bytes: the Standard Webhooks form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Webhook:
    id: str
    tenant: str
    name: str
    url: str
    events: tuple[str, ...]
    secret_sealed: str
    secret_fingerprint: str
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_triggered_at: datetime | None
    delivered: int
    failed: int
    retried: int


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    status_code: int | None
    response_ms: int | None
    error: str | None
    manual: bool = False


@dataclass(frozen=True)
class Delivery:
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    history: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt gave: a 2xx (`ok`), another status, or an error."""

    ok: bool
    status_code: int | None
    response_ms: int
    error: str | None
