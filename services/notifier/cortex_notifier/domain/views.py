"""Webhooks and deliveries as the API shows them (camelCase, never the secret)."""

from __future__ import annotations

from typing import Any

from contracts.timefmt import format_time
from cortex_notifier.domain.model import Attempt, Delivery, Webhook


def webhook(w: Webhook) -> dict[str, Any]:
    return {
        "id": w.id,
        "name": w.name,
        "url": w.url,
        "events": list(w.events),
        "enabled": w.enabled,
        "secretFingerprint": w.secret_fingerprint,
        "createdAt": format_time(w.created_at),
        "updatedAt": format_time(w.updated_at),
        "lastTriggered": format_time(w.last_triggered_at),
        "stats": {"delivered": w.delivered, "failed": w.failed, "retried": w.retried},
    }


def attempt(a: Attempt) -> dict[str, Any]:
    return {
        "attempt": a.number,
        "at": format_time(a.at),
        "statusCode": a.status_code,
        "responseTime": a.response_ms,
        "error": a.error,
        "manual": a.manual,
    }


def delivery(d: Delivery) -> dict[str, Any]:
    last = d.history[-1] if d.history else None
    return {
        "id": d.id,
        "webhookId": d.webhook_id,
        "eventId": d.event_id,
        "eventType": d.event_type,
        "status": d.status.value,
        "attempts": d.attempts,
        "createdAt": format_time(d.created_at),
        "nextAttemptAt": format_time(d.next_attempt_at)
        if d.status in ("pending", "retrying")
        else None,
        "finishedAt": format_time(d.finished_at),
        "statusCode": last.status_code if last else None,
        "responseTime": last.response_ms if last else None,
        "error": last.error if last else None,
        "attemptHistory": [attempt(a) for a in d.history],
    }
