"""Use cases of the Webhooks API, each within the caller's tenant."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from contracts.errors import ApiError, ErrorCode
from contracts.events import envelope, new_event_id
from contracts.timefmt import utcnow
from contracts.validation import parse_model
from cortex_notifier.adapters.deliveries import DeliveryRepository, HistoryQuery
from cortex_notifier.adapters.guard import UrlRefused, check_url
from cortex_notifier.adapters.sender import Sender
from cortex_notifier.adapters.webhooks import DuplicateWebhook, WebhookRepository
from cortex_notifier.domain import views
from cortex_notifier.domain.model import Outcome, Webhook, generate_secret, new_webhook_id
from cortex_notifier.service_layer.attempts import Attempter
from cortex_notifier.service_layer.requests import (
    CreateWebhook,
    HistoryParams,
    PageParams,
    TestRequest,
    UpdateWebhook,
)
from runtime import codec
from runtime.secretbox import SecretBox, SecretBoxError, fingerprint

RECENT_DELIVERIES = 10


def _not_found(webhook_id: str) -> ApiError:
    return ApiError(
        ErrorCode.WEBHOOK_NOT_FOUND, f"Webhook {webhook_id} not found", {"id": webhook_id}
    )


def _duplicate(url: str, events: tuple[str, ...]) -> ApiError:
    return ApiError(
        ErrorCode.DUPLICATE_WEBHOOK,
        "A webhook with this URL and event set already exists",
        {"url": url, "events": list(events)},
    )


class Webhooks:
    def __init__(
        self,
        webhooks: WebhookRepository,
        deliveries: DeliveryRepository,
        box: SecretBox,
        sender: Sender,
        attempter: Attempter,
        allow_private: bool,
        lease: float,
    ) -> None:
        self._webhooks, self._deliveries, self._box = webhooks, deliveries, box
        self._sender, self._attempter = sender, attempter
        self._allow_private, self._lease = allow_private, lease

    async def _check_url(self, url: str) -> None:
        try:
            await check_url(url, self._allow_private)
        except UrlRefused as exc:
            message = f"url {exc}"
            detail = {"field": "url", "rule": "url", "message": str(exc)}
            raise ApiError(
                ErrorCode.VALIDATION_ERROR, f"Invalid request body: {message}", [detail]
            ) from None

    async def _get(self, tenant: str, webhook_id: str) -> Webhook:
        webhook = await self._webhooks.get(tenant, webhook_id)
        if webhook is None:
            raise _not_found(webhook_id)
        return webhook

    async def create(self, tenant: str, body: Any) -> dict[str, Any]:
        """The new webhook; `secret` in the answer only when generated (shown this once)."""
        request = parse_model(CreateWebhook, body)
        await self._check_url(request.url)
        secret = request.secret or generate_secret()
        now = utcnow()
        webhook = Webhook(
            id=new_webhook_id(), tenant=tenant, name=request.name, url=request.url,
            events=tuple(request.events), secret_sealed=self._box.seal(secret),
            secret_fingerprint=fingerprint(secret), enabled=request.enabled, created_at=now,
            updated_at=now, last_triggered_at=None, delivered=0, failed=0, retried=0,
        )  # fmt: skip
        try:
            saved = await self._webhooks.add(webhook)
        except DuplicateWebhook:
            raise _duplicate(webhook.url, webhook.events) from None
        view = views.webhook(saved)
        if request.secret is None:
            view["secret"] = secret
        return view

    async def list(self, tenant: str, params: Any) -> dict[str, Any]:
        query = parse_model(PageParams, params, what="query")
        items, total = await self._webhooks.page(tenant, query.page, query.limit)
        return {
            "items": [views.webhook(w) for w in items],
            "total": total,
            "page": query.page,
            "limit": query.limit,
        }

    async def get(self, tenant: str, webhook_id: str) -> dict[str, Any]:
        """The webhook with its stats and its most recent deliveries."""
        webhook = await self._get(tenant, webhook_id)
        recent, _ = await self._deliveries.page(
            HistoryQuery(tenant, webhook_id, limit=RECENT_DELIVERIES)
        )
        return {**views.webhook(webhook), "deliveryHistory": [views.delivery(d) for d in recent]}

    async def update(self, tenant: str, webhook_id: str, body: Any) -> dict[str, Any]:
        request = parse_model(UpdateWebhook, body)
        webhook = await self._get(tenant, webhook_id)
        changed = replace(webhook, updated_at=utcnow())
        if request.name is not None:
            changed = replace(changed, name=request.name)
        if request.url is not None:
            await self._check_url(request.url)
            changed = replace(changed, url=request.url)
        if request.events is not None:
            changed = replace(changed, events=tuple(request.events))
        if request.enabled is not None:
            changed = replace(changed, enabled=request.enabled)
        if request.secret is not None:  # rotation: the old secret stops signing at once
            changed = replace(
                changed,
                secret_sealed=self._box.seal(request.secret),
                secret_fingerprint=fingerprint(request.secret),
            )
        try:
            saved = await self._webhooks.save(changed)
        except DuplicateWebhook:
            raise _duplicate(changed.url, changed.events) from None
        if saved is None:
            raise _not_found(webhook_id)
        return views.webhook(saved)

    async def delete(self, tenant: str, webhook_id: str) -> dict[str, Any]:
        if not await self._webhooks.delete(tenant, webhook_id):
            raise _not_found(webhook_id)
        return {"id": webhook_id, "deleted": True}

    async def test(self, tenant: str, webhook_id: str, body: Any) -> dict[str, Any]:
        """Send a signed test event now (not recorded as a delivery) and say how it went."""
        request = parse_model(TestRequest, body or {})
        webhook = await self._get(tenant, webhook_id)
        event_id = new_event_id()
        data = {"test": True, "webhookId": webhook.id, "message": "Test event from Cortex"}
        payload = codec.dumps(envelope(event_id, request.event_type, utcnow(), data))
        try:
            secret = self._box.open(webhook.secret_sealed)
        except SecretBoxError:
            # Sealed with another key than this one: say so rather than answer a 500.
            outcome = Outcome(False, None, 0, "the webhook secret cannot be decrypted")
        else:
            outcome = await self._sender.send(
                webhook.url, secret, event_id, request.event_type, payload
            )
        return {
            "delivered": outcome.ok,
            "statusCode": outcome.status_code,
            "responseTime": outcome.response_ms,
            "error": outcome.error,
            "eventId": event_id,
            "eventType": request.event_type,
        }

    async def history(self, tenant: str, webhook_id: str, params: Any) -> dict[str, Any]:
        query = parse_model(HistoryParams, params, what="query")
        await self._get(tenant, webhook_id)
        items, total = await self._deliveries.page(
            HistoryQuery(
                tenant,
                webhook_id,
                query.statuses,
                query.created_from,
                query.created_to,
                query.page,
                query.limit,
            )
        )
        return {
            "items": [views.delivery(d) for d in items],
            "total": total,
            "page": query.page,
            "limit": query.limit,
        }

    async def retry(self, tenant: str, webhook_id: str, delivery_id: str) -> dict[str, Any]:
        """Attempt one delivery again now, whatever its state; the delivery afterwards."""
        claim = await self._deliveries.claim_one(tenant, webhook_id, delivery_id, self._lease)
        if claim is None:
            await self._get(tenant, webhook_id)
            raise ApiError(
                ErrorCode.DELIVERY_NOT_FOUND,
                f"Delivery {delivery_id} not found",
                {"id": delivery_id, "webhookId": webhook_id},
            )
        await self._attempter.run(claim, manual=True)
        delivery = await self._deliveries.get(tenant, webhook_id, delivery_id)
        if delivery is None:  # deleted meanwhile
            raise ApiError(ErrorCode.DELIVERY_NOT_FOUND, f"Delivery {delivery_id} not found")
        return views.delivery(delivery)
