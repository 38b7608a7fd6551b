"""Deliveries to a real HTTP receiver: signatures, retries, failure, redirects, SSRF, tests."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from standardwebhooks import Webhook

from contracts.signatures import verify
from runtime import codec
from runtime.secretbox import generate_key
from tests.integration.notifier.env import WEBHOOKS, Behaviour, WebhookEnv, wait_until


async def test_event_is_delivered_signed_with_both_schemes(env: WebhookEnv) -> None:
    hook = await env.create(url=env.receiver.url("a"), events=["job.completed"])
    await env.publish("job.failed")  # not subscribed
    event_id = await env.publish("job.completed", data={"job": {"id": "job_1"}})
    items = await env.wait_history(hook["id"], lambda i: bool(i) and i[0]["status"] == "delivered")
    assert len(items) == 1 and items[0]["eventId"] == event_id and items[0]["attempts"] == 1
    assert items[0]["statusCode"] == 200 and items[0]["responseTime"] is not None
    [hit] = env.receiver.hits("a")
    payload = codec.loads(hit.body)
    assert payload["id"] == event_id and payload["type"] == "job.completed"
    assert payload["data"] == {"job": {"id": "job_1"}} and "createdAt" in payload
    verify(hook["secret"], hit.headers, hit.body)  # X-Cortex-Signature
    standard = {k: v for k, v in hit.headers.items() if k.lower().startswith("webhook-")}
    verify(hook["secret"], standard, hit.body)
    assert Webhook(hook["secret"]).verify(hit.body, standard)["id"] == event_id
    assert hit.headers["webhook-id"] == event_id
    assert hit.headers["X-Cortex-Event"] == "job.completed"
    status, body = await env.call("GET", f"{WEBHOOKS}/{hook['id']}")
    assert status == 200
    got = body["data"]
    assert got["stats"] == {"delivered": 1, "failed": 0, "retried": 0}
    assert got["lastTriggered"] is not None and len(got["deliveryHistory"]) == 1


async def test_fails_three_times_then_one_delivery_with_four_attempts(env: WebhookEnv) -> None:
    env.receiver.behaviours["flaky"] = Behaviour(fail_times=3, fail_status=503)
    hook = await env.create(url=env.receiver.url("flaky"))
    started = time.monotonic()
    await env.publish()
    items = await env.wait_history(hook["id"], lambda i: bool(i) and i[0]["status"] == "delivered")
    # Scale 0.01: retries after 0.3 s, 1.2 s and 6 s.
    assert time.monotonic() - started >= 0.3 + 1.2 + 6
    [delivery] = items
    assert delivery["attempts"] == 4
    assert [a["statusCode"] for a in delivery["attemptHistory"]] == [503, 503, 503, 200]
    assert [a["attempt"] for a in delivery["attemptHistory"]] == [1, 2, 3, 4]
    assert delivery["attemptHistory"][0]["error"] == "HTTP 503"
    hits = env.receiver.hits("flaky")
    assert len(hits) == 4
    assert len({h.body for h in hits}) == 1  # byte-identical on every attempt
    assert len({h.headers["webhook-id"] for h in hits}) == 1
    for hit in hits:
        verify(hook["secret"], hit.headers, hit.body)
    gaps = [b.at - a.at for a, b in itertools.pairwise(hits)]
    assert gaps[0] >= 0.29 and gaps[1] >= 1.19 and gaps[2] >= 5.99, gaps
    status, body = await env.call("GET", f"{WEBHOOKS}/{hook['id']}")
    assert status == 200 and body["data"]["stats"] == {"delivered": 1, "failed": 0, "retried": 3}


async def test_permanently_failed_after_the_schedule(env: WebhookEnv) -> None:
    await env.restart_notifier(webhook_retry_scale=0.001)  # whole schedule in ~6 s
    env.receiver.behaviours["dead"] = Behaviour(fail_times=1000)
    hook = await env.create(url=env.receiver.url("dead"))
    await env.publish()
    items = await env.wait_history(hook["id"], lambda i: bool(i) and i[0]["status"] == "failed")
    assert items[0]["attempts"] == 6 and items[0]["nextAttemptAt"] is None
    await asyncio.sleep(0.5)
    assert len(env.receiver.hits("dead")) == 6  # nothing after giving up
    status, body = await env.call("GET", f"{WEBHOOKS}/{hook['id']}")
    assert status == 200 and body["data"]["stats"] == {"delivered": 0, "failed": 1, "retried": 5}
    failed = await env.history(hook["id"], status="failed")
    assert len(failed["data"]) == 1


async def test_redirect_is_not_followed(env: WebhookEnv) -> None:
    env.receiver.behaviours["moved"] = Behaviour(redirect_to=env.receiver.url("target"))
    hook = await env.create(url=env.receiver.url("moved"))
    await env.stop_retries()
    await env.publish()
    items = await env.wait_history(hook["id"], lambda i: bool(i) and i[0]["attempts"] == 1)
    assert items[0]["status"] == "retrying" and items[0]["statusCode"] == 302
    assert "redirect" in items[0]["error"]
    assert env.receiver.hits("target") == []


async def test_private_addresses_are_refused_by_default(env: WebhookEnv) -> None:
    allowed = await env.create(url=env.receiver.url("local"))  # allowed while the setting is on
    await env.restart_notifier(webhook_allow_private_urls=False, webhook_retry_scale=1000.0)
    for url in (
        env.receiver.url("x"),
        f"http://localhost:{env.receiver.port}/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://10.0.0.5/x",
        "http://[::ffff:127.0.0.1]/x",
    ):
        status, body = await env.call(
            "POST", WEBHOOKS, json={"name": "x", "url": url, "events": ["job.completed"]}
        )
        assert status == 400, (url, body)
        assert body["error"]["details"][0]["field"] == "url", body
    status, body = await env.call(
        "PUT", f"{WEBHOOKS}/{allowed['id']}", json={"url": "http://127.0.0.2/x"}
    )
    assert status == 400 and body["error"]["details"][0]["field"] == "url"
    # Checked again at delivery time: the webhook made while allowed is refused now.
    await env.publish()
    items = await env.wait_history(allowed["id"], lambda i: bool(i) and i[0]["attempts"] == 1)
    assert items[0]["status"] == "retrying" and "refused" in items[0]["error"], items
    assert env.receiver.hits("local") == []
    status, body = await env.call("POST", f"{WEBHOOKS}/{allowed['id']}/test", json={})
    assert (
        status == 200 and body["data"]["delivered"] is False and "refused" in body["data"]["error"]
    )


async def test_test_endpoint_sends_a_signed_event_of_the_given_type(env: WebhookEnv) -> None:
    hook = await env.create(url=env.receiver.url("t"))
    status, body = await env.call(
        "POST", f"{WEBHOOKS}/{hook['id']}/test", json={"eventType": "job.failed"}
    )
    assert status == 200, body
    result = body["data"]
    assert result["delivered"] is True and result["statusCode"] == 200
    assert isinstance(result["responseTime"], int)
    [hit] = env.receiver.hits("t")
    verify(hook["secret"], hit.headers, hit.body)
    assert codec.loads(hit.body)["type"] == "job.failed"
    assert codec.loads(hit.body)["data"]["test"] is True
    # Without a body: the default type.
    status, body = await env.call("POST", f"{WEBHOOKS}/{hook['id']}/test")
    assert status == 200 and body["data"]["eventType"] == "job.completed"
    status, body = await env.call(
        "POST", f"{WEBHOOKS}/{hook['id']}/test", json={"eventType": "job.exploded"}
    )
    assert status == 400 and body["error"]["details"][0]["field"] == "eventType"
    env.receiver.behaviours["t"] = Behaviour(fail_times=100, fail_status=418)
    status, body = await env.call("POST", f"{WEBHOOKS}/{hook['id']}/test", json={})
    assert body["data"]["delivered"] is False and body["data"]["statusCode"] == 418
    status, body = await env.call("POST", f"{WEBHOOKS}/wh_nope/test", json={})
    assert status == 404 and body["error"]["code"] == "WEBHOOK_NOT_FOUND"


async def test_manual_retry_attempts_again_now(env: WebhookEnv) -> None:
    env.receiver.behaviours["m"] = Behaviour(fail_times=2)
    hook = await env.create(url=env.receiver.url("m"))
    await env.stop_retries()
    await env.publish()
    [item] = await env.wait_history(hook["id"], lambda i: bool(i) and i[0]["attempts"] == 1)
    path = f"{WEBHOOKS}/{hook['id']}/history/{item['id']}/retry"
    status, body = await env.call("POST", path)
    assert status == 200, body
    assert body["data"]["status"] == "retrying" and body["data"]["attempts"] == 2
    status, body = await env.call("POST", path)
    retried = body["data"]
    assert retried["status"] == "delivered" and retried["attempts"] == 3
    assert [a["manual"] for a in retried["attemptHistory"]] == [False, True, True]
    assert len({h.body for h in env.receiver.hits("m")}) == 1
    status, body = await env.call("GET", f"{WEBHOOKS}/{hook['id']}")
    assert body["data"]["stats"] == {"delivered": 1, "failed": 0, "retried": 2}


async def test_provider_events_reach_every_tenant_subscribed(env: WebhookEnv) -> None:
    status, answer = await env.call(
        "POST", "/api/auth/keys", json={"name": "k", "tenant": "acme", "scopes": ["webhooks:write"]}
    )
    assert status == 201
    acme = answer["data"]["key"]
    a = await env.create(url=env.receiver.url("p1"), events=["provider.status.changed"])
    b = await env.create(acme, url=env.receiver.url("p2"), events=["provider.*"])
    c = await env.create(url=env.receiver.url("p3"), events=["job.*"])
    await env.publish("provider.status.changed", tenant=None)
    await wait_until(
        lambda: len(env.receiver.hits("p1")) == 1 and len(env.receiver.hits("p2")) == 1
    )
    await asyncio.sleep(0.3)
    assert env.receiver.hits("p3") == []
    assert a["id"] != b["id"] != c["id"]


async def test_disabled_webhook_receives_nothing(env: WebhookEnv) -> None:
    off = await env.create(url=env.receiver.url("off"), enabled=False)
    on = await env.create(url=env.receiver.url("on"))
    await env.publish()
    await env.wait_history(on["id"], lambda i: bool(i) and i[0]["status"] == "delivered")
    assert (await env.history(off["id"]))["data"] == []
    assert env.receiver.hits("off") == []


async def test_secrets_never_reach_the_logs(
    env: WebhookEnv, capfd: pytest.CaptureFixture[str]
) -> None:
    supplied = "supplied-secret-value-0123456789"
    env.receiver.behaviours["s"] = Behaviour(fail_times=1)
    generated = await env.create(url=env.receiver.url("s"))
    await env.create(url=env.receiver.url("s2"), secret=supplied)
    await env.call("PUT", f"{WEBHOOKS}/{generated['id']}", json={"secret": supplied + "-rotated"})
    await env.call(
        "POST",
        WEBHOOKS,
        json={"name": "x", "url": "bad", "events": ["job.completed"], "secret": supplied},
    )
    await env.publish()
    await wait_until(lambda: len(env.receiver.hits("s")) == 2 and len(env.receiver.hits("s2")) == 1)
    await env.call("POST", f"{WEBHOOKS}/{generated['id']}/test", json={})
    logged = capfd.readouterr()
    text = logged.out + logged.err
    assert "delivery.attempted" in text  # the notifier's logs were captured
    for secret in (generated["secret"], supplied, supplied + "-rotated"):
        assert secret not in text
        assert secret.removeprefix("whsec_") not in text


async def test_wrong_secrets_key_fails_clearly_and_never_sends_unsigned(env: WebhookEnv) -> None:
    hook = await env.create(url=env.receiver.url("k"))
    await env.restart_notifier(secrets_key=generate_key(), webhook_retry_scale=1000.0)
    status, body = await env.call("POST", f"{WEBHOOKS}/{hook['id']}/test", json={})
    assert status == 200 and body["data"]["delivered"] is False
    assert "cannot be decrypted" in body["data"]["error"]
    await env.publish()
    [item] = await env.wait_history(hook["id"], lambda i: bool(i) and i[0]["attempts"] == 1)
    assert item["status"] == "retrying" and "cannot be decrypted" in item["error"]
    assert env.receiver.hits("k") == []
    # Rotating the secret under the new key repairs the webhook.
    status, _ = await env.call("PUT", f"{WEBHOOKS}/{hook['id']}", json={"secret": "x" * 20})
    assert status == 200
    status, body = await env.call("POST", f"{WEBHOOKS}/{hook['id']}/test", json={})
    assert body["data"]["delivered"] is True


async def test_records_past_retention_are_deleted_but_stats_stay(env: WebhookEnv) -> None:
    # 0.00001 days = 0.86 s, checked every 0.086 s.
    await env.restart_notifier(webhook_retention_days=0.00001)
    hook = await env.create(url=env.receiver.url("r"))
    await env.publish()
    await env.wait_history(hook["id"], lambda i: bool(i) and i[0]["status"] == "delivered")
    await env.wait_history(hook["id"], lambda i: i == [], timeout=10)
    status, body = await env.call("GET", f"{WEBHOOKS}/{hook['id']}")
    assert status == 200 and body["data"]["stats"]["delivered"] == 1
    assert body["data"]["deliveryHistory"] == []
