"""Deliveries and their attempts in `notifier.deliveries` / `notifier.attempts`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from contracts.timefmt import utcnow
from cortex_notifier.domain import retry
from cortex_notifier.domain.model import Attempt, Delivery, DeliveryStatus, Outcome

DELIVERY_COLUMNS = (
    "d.id, d.webhook_id, d.event_id, d.event_type, d.status, d.attempts, d.created_at, "
    "d.next_attempt_at, d.finished_at"
)


@dataclass(frozen=True)
class NewDelivery:
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    body: bytes
    created_at: datetime


@dataclass(frozen=True)
class Claim:
    """A delivery taken for one attempt, with what sending it needs."""

    id: str
    webhook_id: str
    event_id: str
    event_type: str
    body: bytes
    attempts: int
    url: str
    secret_sealed: str


@dataclass(frozen=True)
class AttemptResult:
    """One attempt to record: which delivery, when it started, how it went."""

    delivery_id: str
    at: datetime
    outcome: Outcome
    manual: bool = False


@dataclass
class _Counts:
    """A webhook's counter changes within one recorded batch."""

    last: datetime
    delivered: int = 0
    failed: int = 0
    retried: int = 0


@dataclass(frozen=True)
class HistoryQuery:
    tenant: str
    webhook_id: str
    statuses: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    page: int = 1
    limit: int = 20


def _delivery(row: Any, history: tuple[Attempt, ...] = ()) -> Delivery:
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        finished_at=row["finished_at"],
        history=history,
    )


def _attempt(row: Any) -> Attempt:
    return Attempt(
        row["number"], row["at"], row["status_code"], row["response_ms"], row["error"],
        row["manual"],
    )  # fmt: skip


def _claim(row: Any) -> Claim:
    return Claim(
        row["id"], row["webhook_id"], row["event_id"], row["event_type"], bytes(row["body"]),
        row["attempts"], row["url"], row["secret_sealed"],
    )  # fmt: skip


class DeliveryRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_many(self, deliveries: list[NewDelivery]) -> int:
        """Insert, skipping (webhook, event) pairs that exist: a redelivered event is harmless."""
        if not deliveries:
            return 0
        result: str = await self._pool.execute(
            """
            INSERT INTO notifier.deliveries
                (id, webhook_id, event_id, event_type, body, status, created_at, next_attempt_at)
            SELECT i, w, e, t, b, 'pending', c, c
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[],
                        $6::timestamptz[]) AS u(i, w, e, t, b, c)
            ON CONFLICT (webhook_id, event_id) DO NOTHING
            """,
            [d.id for d in deliveries],
            [d.webhook_id for d in deliveries],
            [d.event_id for d in deliveries],
            [d.event_type for d in deliveries],
            [d.body for d in deliveries],
            [d.created_at for d in deliveries],
        )
        return int(result.rsplit(" ", 1)[-1])

    async def claim_due(
        self, limit: int, room: Callable[[str], int], saturated: list[str], lease: float
    ) -> list[Claim]:
        """Take up to `limit` due deliveries, at most `room(webhook)` per webhook.

        The lease pushes `next_attempt_at` past the attempt's end: if this process dies
        mid-attempt, the delivery is due again when the lease runs out.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, webhook_id FROM notifier.deliveries "
                "WHERE next_attempt_at <= now() AND NOT (webhook_id = ANY($1::text[])) "
                "ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                saturated,
                limit,
            )
            taken: dict[str, int] = {}
            chosen = []
            for row in rows:
                webhook = row["webhook_id"]
                if taken.get(webhook, 0) < room(webhook):
                    taken[webhook] = taken.get(webhook, 0) + 1
                    chosen.append(row["id"])
            if not chosen:
                return []
            claimed = await conn.fetch(
                "UPDATE notifier.deliveries d "
                "SET next_attempt_at = now() + make_interval(secs => $2) "
                "FROM notifier.webhooks w WHERE d.id = ANY($1::text[]) AND w.id = d.webhook_id "
                "RETURNING d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.attempts, "
                "w.url, w.secret_sealed",
                chosen,
                lease,
            )
        return [_claim(r) for r in claimed]

    async def claim_one(
        self, tenant: str, webhook_id: str, delivery_id: str, lease: float
    ) -> Claim | None:
        """Take one delivery of the tenant's webhook for a manual attempt, whatever its state."""
        row = await self._pool.fetchrow(
            "UPDATE notifier.deliveries d "
            "SET next_attempt_at = now() + make_interval(secs => $4) "
            "FROM notifier.webhooks w "
            "WHERE d.id = $1 AND d.webhook_id = $2 AND w.id = d.webhook_id AND w.tenant = $3 "
            "RETURNING d.id, d.webhook_id, d.event_id, d.event_type, d.body, d.attempts, "
            "w.url, w.secret_sealed",
            delivery_id,
            webhook_id,
            tenant,
            lease,
        )
        return None if row is None else _claim(row)

    async def record(self, results: list[AttemptResult], scale: float) -> None:
        """Write attempts, the deliveries' new states and the webhooks' counters in one
        transaction (one per batch of attempts, not per attempt: this is the hot path)."""
        if not results:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, webhook_id, status, attempts FROM notifier.deliveries "
                "WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE",
                sorted({r.delivery_id for r in results}),
            )
            state = {
                r["id"]: (r["webhook_id"], DeliveryStatus(r["status"]), r["attempts"]) for r in rows
            }
            first_status = {key: value[1] for key, value in state.items()}
            attempts: list[tuple[Any, ...]] = []
            ends: dict[str, tuple[datetime | None, datetime | None]] = {}
            counts: dict[str, _Counts] = {}
            now = utcnow()
            for result in results:
                if result.delivery_id not in state:  # the webhook was deleted meanwhile
                    continue
                webhook, old, count = state[result.delivery_id]
                number = count + 1
                new, next_at, finished = _next_state(
                    old, number, result.outcome, now, scale, result.manual
                )
                state[result.delivery_id] = (webhook, new, number)
                ends[result.delivery_id] = (next_at, finished)
                o = result.outcome
                attempts.append(
                    (result.delivery_id, number, result.at, o.status_code, o.response_ms,
                     o.error, result.manual)
                )  # fmt: skip
                c = counts.setdefault(webhook, _Counts(last=result.at))
                c.retried += int(number > 1)
                c.last = max(c.last, result.at)
            if not attempts:
                return
            await conn.executemany(
                "INSERT INTO notifier.attempts "
                "(delivery_id, number, at, status_code, response_ms, error, manual) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                attempts,
            )
            changed = sorted(ends)
            await conn.execute(
                "UPDATE notifier.deliveries d SET status = u.s, attempts = u.a, "
                "next_attempt_at = u.n, finished_at = u.f "
                "FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], "
                "$5::timestamptz[]) AS u(i, s, a, n, f) WHERE d.id = u.i",
                changed,
                [state[i][1].value for i in changed],
                [state[i][2] for i in changed],
                [ends[i][0] for i in changed],
                [ends[i][1] for i in changed],
            )
            for delivery_id in changed:
                # Counters follow each delivery's net change over the batch.
                webhook, new, _ = state[delivery_id]
                old = first_status[delivery_id]
                c = counts[webhook]
                c.delivered += int(new == DeliveryStatus.DELIVERED) - int(
                    old == DeliveryStatus.DELIVERED
                )
                c.failed += int(new == DeliveryStatus.FAILED) - int(old == DeliveryStatus.FAILED)
            hooks = sorted(counts)
            await conn.execute(
                "UPDATE notifier.webhooks w SET "
                "delivered_count = delivered_count + u.d, failed_count = failed_count + u.f, "
                "retried_count = retried_count + u.r, "
                "last_triggered_at = GREATEST(last_triggered_at, u.t) "
                "FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::timestamptz[]) "
                "AS u(i, d, f, r, t) WHERE w.id = u.i",
                hooks,
                [counts[h].delivered for h in hooks],
                [counts[h].failed for h in hooks],
                [counts[h].retried for h in hooks],
                [counts[h].last for h in hooks],
            )

    async def release(self, delivery_ids: list[str]) -> None:
        """Make claimed deliveries due at once (their attempts were cut short by a stop)."""
        await self._pool.execute(
            "UPDATE notifier.deliveries SET next_attempt_at = now() "
            "WHERE id = ANY($1::text[]) AND status IN ('pending', 'retrying')",
            delivery_ids,
        )

    async def get(self, tenant: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        row = await self._pool.fetchrow(
            f"SELECT {DELIVERY_COLUMNS} FROM notifier.deliveries d "
            "JOIN notifier.webhooks w ON w.id = d.webhook_id "
            "WHERE d.id = $1 AND d.webhook_id = $2 AND w.tenant = $3",
            delivery_id,
            webhook_id,
            tenant,
        )
        if row is None:
            return None
        return (await self._with_history([row]))[0]

    async def page(self, query: HistoryQuery) -> tuple[list[Delivery], int]:
        """Newest first; the caller has checked that the webhook is the tenant's."""
        rows = await self._pool.fetch(
            f"SELECT {DELIVERY_COLUMNS}, count(*) OVER () AS total FROM notifier.deliveries d "
            "WHERE d.webhook_id = $1 "
            "AND (cardinality($2::text[]) = 0 OR d.status = ANY($2::text[])) "
            "AND ($3::timestamptz IS NULL OR d.created_at >= $3) "
            "AND ($4::timestamptz IS NULL OR d.created_at <= $4) "
            "ORDER BY d.created_at DESC, d.id DESC LIMIT $5 OFFSET $6",
            query.webhook_id,
            list(query.statuses),
            query.created_from,
            query.created_to,
            query.limit,
            (query.page - 1) * query.limit,
        )
        total = rows[0]["total"] if rows else 0
        if not rows and query.page > 1:
            total = await self._pool.fetchval(
                "SELECT count(*) FROM notifier.deliveries d WHERE d.webhook_id = $1 "
                "AND (cardinality($2::text[]) = 0 OR d.status = ANY($2::text[])) "
                "AND ($3::timestamptz IS NULL OR d.created_at >= $3) "
                "AND ($4::timestamptz IS NULL OR d.created_at <= $4)",
                query.webhook_id, list(query.statuses), query.created_from, query.created_to,
            )  # fmt: skip
        return await self._with_history(rows), total

    async def _with_history(self, rows: list[Any]) -> list[Delivery]:
        attempts = await self._pool.fetch(
            "SELECT delivery_id, number, at, status_code, response_ms, error, manual "
            "FROM notifier.attempts WHERE delivery_id = ANY($1::text[]) "
            "ORDER BY delivery_id, number",
            [r["id"] for r in rows],
        )
        by_delivery: dict[str, list[Attempt]] = {}
        for a in attempts:
            by_delivery.setdefault(a["delivery_id"], []).append(_attempt(a))
        return [_delivery(r, tuple(by_delivery.get(r["id"], ()))) for r in rows]

    async def purge(self, before: datetime, batch: int = 1000) -> int:
        """Delete finished deliveries (with their attempts) that ended before `before`."""
        result: str = await self._pool.execute(
            "DELETE FROM notifier.deliveries WHERE id IN (SELECT id FROM notifier.deliveries "
            "WHERE finished_at < $1 LIMIT $2)",
            before,
            batch,
        )
        return int(result.rsplit(" ", 1)[-1])


def _next_state(
    old: DeliveryStatus, number: int, outcome: Outcome, at: datetime, scale: float, manual: bool
) -> tuple[DeliveryStatus, datetime | None, datetime | None]:
    """(status, next attempt, finished) after attempt `number` had `outcome`, known `at`."""
    if outcome.ok:
        return DeliveryStatus.DELIVERED, None, at
    if manual and old in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        # A manual resend of a finished delivery that fails leaves it as it was.
        return old, None, at
    delay = retry.next_delay(number, scale)
    if delay is None:
        return DeliveryStatus.FAILED, None, at
    return DeliveryStatus.RETRYING, at + timedelta(seconds=delay), None
