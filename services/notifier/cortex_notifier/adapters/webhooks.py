"""Webhooks in `notifier.webhooks`, always read and written within one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from cortex_notifier.domain.model import Webhook

COLUMNS = (
    "id, tenant, name, url, events, secret_sealed, secret_fingerprint, enabled, created_at, "
    "updated_at, last_triggered_at, delivered_count, failed_count, retried_count"
)


class DuplicateWebhook(Exception):
    """The tenant already has a webhook with this URL and event set."""


def from_row(row: Any) -> Webhook:
    return Webhook(
        id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        url=row["url"],
        events=tuple(row["events"]),
        secret_sealed=row["secret_sealed"],
        secret_fingerprint=row["secret_fingerprint"],
        enabled=row["enabled"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_triggered_at=row["last_triggered_at"],
        delivered=row["delivered_count"],
        failed=row["failed_count"],
        retried=row["retried_count"],
    )


@dataclass(frozen=True)
class Subscription:
    """What fan-out needs of an enabled webhook."""

    id: str
    tenant: str
    events: tuple[str, ...]
    created_at: datetime


class WebhookRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, webhook: Webhook) -> Webhook:
        try:
            row = await self._pool.fetchrow(
                f"INSERT INTO notifier.webhooks ({COLUMNS}) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
                f"RETURNING {COLUMNS}",
                webhook.id, webhook.tenant, webhook.name, webhook.url, list(webhook.events),
                webhook.secret_sealed, webhook.secret_fingerprint, webhook.enabled,
                webhook.created_at, webhook.updated_at, None, 0, 0, 0,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise DuplicateWebhook from None
        return from_row(row)

    async def get(self, tenant: str, webhook_id: str) -> Webhook | None:
        row = await self._pool.fetchrow(
            f"SELECT {COLUMNS} FROM notifier.webhooks WHERE id = $1 AND tenant = $2",
            webhook_id,
            tenant,
        )
        return None if row is None else from_row(row)

    async def page(self, tenant: str, page: int, limit: int) -> tuple[list[Webhook], int]:
        rows = await self._pool.fetch(
            f"SELECT {COLUMNS}, count(*) OVER () AS total FROM notifier.webhooks "
            "WHERE tenant = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3",
            tenant,
            limit,
            (page - 1) * limit,
        )
        total = rows[0]["total"] if rows else await self._count(tenant)
        return [from_row(r) for r in rows], total

    async def _count(self, tenant: str) -> int:
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM notifier.webhooks WHERE tenant = $1", tenant
        )
        return count

    async def save(self, webhook: Webhook) -> Webhook | None:
        """Write the editable fields; None when the webhook is gone."""
        try:
            row = await self._pool.fetchrow(
                "UPDATE notifier.webhooks SET name = $3, url = $4, events = $5, "
                "secret_sealed = $6, secret_fingerprint = $7, enabled = $8, updated_at = $9 "
                f"WHERE id = $1 AND tenant = $2 RETURNING {COLUMNS}",
                webhook.id, webhook.tenant, webhook.name, webhook.url, list(webhook.events),
                webhook.secret_sealed, webhook.secret_fingerprint, webhook.enabled,
                webhook.updated_at,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise DuplicateWebhook from None
        return None if row is None else from_row(row)

    async def delete(self, tenant: str, webhook_id: str) -> bool:
        """Delete the webhook with its deliveries and attempts."""
        deleted = await self._pool.fetchval(
            "DELETE FROM notifier.webhooks WHERE id = $1 AND tenant = $2 RETURNING id",
            webhook_id,
            tenant,
        )
        return deleted is not None

    async def any_exist(self) -> bool:
        """Whether any tenant has a webhook (enabled or not)."""
        found: bool = await self._pool.fetchval("SELECT EXISTS (SELECT 1 FROM notifier.webhooks)")
        return found

    async def subscriptions(self, tenants: list[str], every_tenant: bool) -> list[Subscription]:
        """Enabled webhooks of `tenants` (of every tenant when `every_tenant`)."""
        rows = await self._pool.fetch(
            "SELECT id, tenant, events, created_at FROM notifier.webhooks "
            "WHERE enabled AND ($2 OR tenant = ANY($1::text[]))",
            tenants,
            every_tenant,
        )
        return [
            Subscription(r["id"], r["tenant"], tuple(r["events"]), r["created_at"]) for r in rows
        ]
