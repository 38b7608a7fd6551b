"""Every route of /api/plugin-core/webhooks and its errors, through the gateway."""

from __future__ import annotations

import asyncio
from typing import Any

from runtime import codec
from tests.integration.notifier.env import WEBHOOKS, Behaviour, WebhookEnv, wait_until


async def _key(env: WebhookEnv, tenant: str, scopes: list[str]) -> str:
    body = {"name": f"{tenant}-key", "tenant": tenant, "scopes": scopes}
    status, answer = await env.call("POST", "/api/auth/keys", json=body)
    assert status == 201, answer
    key: str = answer["data"]["key"]
    return key


def _field_errors(body: Any) -> list[str]:
    assert body["success"] is False and body["error"]["code"] == "VALIDATION_ERROR", body
    return [d["field"] for d in body["error"]["details"]]


async def test_create_returns_generated_secret_once_and_fingerprint_after(env: WebhookEnv) -> None:
    created = await env.create(url=env.receiver.url("a"), events=["job.completed", "job.failed"])
    assert created["secret"].startswith("whsec_")
    assert created["secretFingerprint"].startswith("sha256:")
    assert created["enabled"] is True and created["events"] == ["job.completed", "job.failed"]
    assert created["stats"] == {"delivered": 0, "failed": 0, "retried": 0}
    assert created["lastTriggered"] is None
    status, body = await env.call("GET", f"{WEBHOOKS}/{created['id']}")
    assert status == 200
    got = body["data"]
    assert "secret" not in got and got["secretFingerprint"] == created["secretFingerprint"]
    assert got["deliveryHistory"] == []
    assert created["secret"] not in str(body)


async def test_supplied_secret_is_never_echoed(env: WebhookEnv) -> None:
    created = await env.create(url=env.receiver.url("a"), secret="my-very-own-secret-1")
    assert "secret" not in created
    assert "my-very-own-secret-1" not in str(created)


async def test_list_is_paginated(env: WebhookEnv) -> None:
    for n in range(3):
        await env.create(name=f"h{n}", url=env.receiver.url(f"p{n}"))
    status, body = await env.call("GET", WEBHOOKS, params={"limit": "2", "page": "2"})
    assert status == 200, body
    assert [w["name"] for w in body["data"]] == ["h2"]
    assert body["meta"]["pagination"] == {"total": 3, "page": 2, "limit": 2, "pages": 2}
    status, body = await env.call("GET", WEBHOOKS, params={"limit": "0"})
    assert status == 400 and _field_errors(body) == ["limit"]


async def test_validation_errors_name_the_field(env: WebhookEnv) -> None:
    url = env.receiver.url("a")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "x", "url": url, "events": ["job.exploded"]}, "events"),
        ({"name": "x", "url": url, "events": []}, "events"),
        ({"name": "x", "url": "ftp://example.com/x", "events": ["job.completed"]}, "url"),
        ({"name": "x", "url": "not a url", "events": ["job.completed"]}, "url"),
        ({"url": url, "events": ["job.completed"]}, "name"),
        ({"name": "x", "url": url, "events": ["job.completed"], "secret": "short"}, "secret"),
        ({"name": "x", "url": url, "events": ["job.completed"], "colour": "red"}, "colour"),
        ({"name": "x", "url": "https://no-such-host.invalid/", "events": ["job.*"]}, "url"),
    ]
    for body, field in cases:
        status, answer = await env.call("POST", WEBHOOKS, json=body)
        assert status == 400, (body, answer)
        assert field in _field_errors(answer), (body, answer)
    status, answer = await env.call(
        "POST", WEBHOOKS, data=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert status == 400


async def test_duplicate_url_and_event_set_is_409(env: WebhookEnv) -> None:
    url = env.receiver.url("a")
    await env.create(url=url, events=["job.failed", "job.completed"])
    body = {"name": "again", "url": url, "events": ["job.completed", "job.failed", "job.failed"]}
    status, answer = await env.call("POST", WEBHOOKS, json=body)
    assert status == 409 and answer["error"]["code"] == "DUPLICATE_WEBHOOK", answer
    # Another event set at the same URL is a different webhook.
    await env.create(url=url, events=["job.completed"])


async def test_put_updates_fields_and_rotates_secret(env: WebhookEnv) -> None:
    created = await env.create(url=env.receiver.url("a"))
    path = f"{WEBHOOKS}/{created['id']}"
    status, body = await env.call(
        "PUT", path, json={"name": "renamed", "events": ["job.*"], "enabled": False}
    )
    assert status == 200, body
    assert body["data"]["name"] == "renamed" and body["data"]["events"] == ["job.*"]
    assert body["data"]["enabled"] is False
    assert body["data"]["secretFingerprint"] == created["secretFingerprint"]
    status, body = await env.call("PUT", path, json={"secret": "a-brand-new-secret-value"})
    assert status == 200 and body["data"]["secretFingerprint"] != created["secretFingerprint"]
    assert "a-brand-new-secret-value" not in str(body)
    status, body = await env.call("PUT", path, json={})
    assert status == 400, body
    status, body = await env.call("PUT", path, json={"events": ["nope"]})
    assert status == 400 and _field_errors(body) == ["events"]
    status, body = await env.call("PUT", f"{WEBHOOKS}/wh_missing", json={"name": "x"})
    assert status == 404 and body["error"]["code"] == "WEBHOOK_NOT_FOUND"


async def test_delete_then_not_found(env: WebhookEnv) -> None:
    created = await env.create(url=env.receiver.url("a"))
    path = f"{WEBHOOKS}/{created['id']}"
    status, body = await env.call("DELETE", path)
    assert status == 200 and body["data"] == {"id": created["id"], "deleted": True}
    for method in ("GET", "DELETE"):
        status, body = await env.call(method, path)
        assert status == 404 and body["error"]["code"] == "WEBHOOK_NOT_FOUND", body
    status, body = await env.call("GET", path + "/history")
    assert status == 404 and body["error"]["code"] == "WEBHOOK_NOT_FOUND"


async def test_scopes_are_enforced(env: WebhookEnv) -> None:
    created = await env.create(url=env.receiver.url("a"))
    jobs_only = await _key(env, "default", ["jobs:read", "jobs:write"])
    reader = await _key(env, "default", ["webhooks:read"])
    status, body = await env.call("GET", WEBHOOKS, jobs_only)
    assert status == 403 and body["error"]["details"]["requiredScope"] == "webhooks:read"
    status, _ = await env.call("GET", f"{WEBHOOKS}/{created['id']}", reader)
    assert status == 200
    body_ = {"name": "x", "url": env.receiver.url("b"), "events": ["job.completed"]}
    for method, path, json in [
        ("POST", WEBHOOKS, body_),
        ("PUT", f"{WEBHOOKS}/{created['id']}", {"name": "y"}),
        ("DELETE", f"{WEBHOOKS}/{created['id']}", None),
        ("POST", f"{WEBHOOKS}/{created['id']}/test", {}),
    ]:
        status, body = await env.call(method, path, reader, json=json)
        assert status == 403 and body["error"]["details"]["requiredScope"] == "webhooks:write"


async def test_tenants_see_and_receive_only_their_own(env: WebhookEnv) -> None:
    mine = await env.create(url=env.receiver.url("mine"))
    acme_key = await _key(env, "acme", ["webhooks:read", "webhooks:write"])
    theirs = await env.create(acme_key, url=env.receiver.url("theirs"))
    status, body = await env.call("GET", f"{WEBHOOKS}/{mine['id']}", acme_key)
    assert status == 404 and body["error"]["code"] == "WEBHOOK_NOT_FOUND"
    status, body = await env.call("GET", WEBHOOKS, acme_key)
    assert [w["id"] for w in body["data"]] == [theirs["id"]]
    status, body = await env.call("DELETE", f"{WEBHOOKS}/{mine['id']}", acme_key)
    assert status == 404
    # The same URL and events in another tenant is not a duplicate.
    await env.create(acme_key, url=env.receiver.url("mine"))
    acme_event = await env.publish("job.completed", tenant="acme")
    default_event = await env.publish("job.completed", tenant="default")
    await env.publish("job.completed", tenant=None)  # a job event without tenant reaches no one
    await env.wait_history(mine["id"], lambda items: len(items) == 1)
    await env.wait_history(theirs["id"], lambda items: len(items) == 1, key=acme_key)
    await wait_until(lambda: len(env.receiver.hits("mine")) == 2)  # one per tenant's webhook
    await asyncio.sleep(0.3)
    assert len(env.receiver.hits("theirs")) == 1 and len(env.receiver.hits("mine")) == 2
    tenants = sorted(codec.loads(h.body)["id"] for h in env.receiver.hits("mine"))
    assert tenants == sorted([acme_event, default_event])


async def test_history_filters_pagination_and_unknown_delivery(env: WebhookEnv) -> None:
    env.receiver.behaviours["flaky"] = Behaviour(fail_times=1)
    hook = await env.create(url=env.receiver.url("flaky"))
    await env.stop_retries()
    for _ in range(3):
        await env.publish()
    await env.wait_history(
        hook["id"], lambda items: len(items) == 3 and all(i["attempts"] for i in items)
    )
    body = await env.history(hook["id"], status="retrying")
    assert len(body["data"]) == 1 and body["data"][0]["attemptHistory"][0]["statusCode"] == 500
    body = await env.history(hook["id"], status="delivered", limit=1, page=2)
    assert len(body["data"]) == 1
    assert body["meta"]["pagination"] == {"total": 2, "page": 2, "limit": 1, "pages": 2}
    body = await env.history(hook["id"], **{"from": "2999-01-01T00:00:00Z"})
    assert body["data"] == []
    for params, field in [
        ({"status": "lost"}, "status"),
        ({"to": "yesterday"}, "to"),
        ({"x": "1"}, "x"),
    ]:
        status, answer = await env.call("GET", f"{WEBHOOKS}/{hook['id']}/history", params=params)
        assert status == 400 and _field_errors(answer) == [field], answer
    status, answer = await env.call("POST", f"{WEBHOOKS}/{hook['id']}/history/dlv_missing/retry")
    assert status == 404 and answer["error"]["code"] == "DELIVERY_NOT_FOUND"
    status, answer = await env.call("POST", f"{WEBHOOKS}/wh_missing/history/dlv_missing/retry")
    assert status == 404 and answer["error"]["code"] == "WEBHOOK_NOT_FOUND"
