"""The HTTP contract: envelopes, validation, auth, tenants, listing, rate limits, health."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.integration.stack import JOBS, SPEC, Stack


async def new_key(stack: Stack, tenant: str, scopes: list[str]) -> str:
    status, _, body = await stack.call(
        "POST", "/api/auth/keys", json={"name": f"{tenant} key", "tenant": tenant, "scopes": scopes}
    )
    assert status == 201, body
    key: str = body["data"]["key"]
    return key


async def test_create_answers_the_seed_shape(stack: Stack) -> None:
    body = {
        **SPEC,
        "image": "nginx:alpine",
        "env": {"DEBUG": "true"},
        "ports": [{"port": 80, "expose": True}],
    }
    status, headers, reply = await stack.call("POST", JOBS, json=body)
    assert status == 201
    assert reply["success"] is True
    job = reply["data"]
    assert job["id"].startswith("job_")
    expected = {"provider": "akash", "status": "pending", "image": "nginx:alpine", "cpu": 250}
    assert {k: job[k] for k in expected} == expected
    assert job["createdAt"].endswith("Z") and job["startedAt"] is None and job["endedAt"] is None
    assert job["cost"]["currency"] == "USD"
    assert headers["X-RateLimit-Limit"] and "X-RateLimit-Remaining" in headers

    detail = await stack.job(job["id"])
    assert detail["config"] == {
        "env": {"DEBUG": "true"},
        "ports": [{"port": 80, "expose": True, "protocol": "TCP"}],
    }
    assert detail["events"][0]["type"] == "created"
    await stack.call("POST", f"{JOBS}/{job['id']}/cancel")


async def test_validation_errors_name_each_field(stack: Stack) -> None:
    bad = {**SPEC, "cpu": -5, "memory": "512MB", "ports": [{"port": 70000}], "colour": "red"}
    status, _, reply = await stack.call("POST", JOBS, json=bad)
    assert status == 400
    assert reply["success"] is False
    assert reply["error"]["code"] == "VALIDATION_ERROR"
    fields = {d["field"] for d in reply["error"]["details"]}
    assert fields == {"cpu", "memory", "ports[0].port", "colour"}


async def test_malformed_bodies_get_400_never_500(stack: Stack) -> None:
    cases: list[dict[str, Any]] = [
        {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
        {
            "data": b"provider=akash",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
        {"data": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
        {"data": b"{}", "headers": {}},
        {
            "data": b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}',
            "headers": {"Content-Type": "application/json"},
        },
    ]
    for case in cases:
        status, _, reply = await stack.call("POST", JOBS, **case)
        assert status == 400, (case["headers"], reply)
        assert reply["success"] is False and reply["error"]["code"] in (
            "VALIDATION_ERROR",
            "PAYLOAD_TOO_LARGE",
        )


async def test_unknown_provider_is_rejected_before_anything_is_created(stack: Stack) -> None:
    status, _, reply = await stack.call("POST", JOBS, json={**SPEC, "provider": "nowhere"})
    assert status == 400 and reply["error"]["details"][0]["field"] == "provider"
    _, _, listing = await stack.call("GET", JOBS)
    assert listing["meta"]["pagination"]["total"] == 0


async def test_auth_missing_unknown_and_insufficient_scope(stack: Stack) -> None:
    async with stack.http.get(stack.base_url + JOBS) as r:
        assert r.status == 401 and (await r.json())["error"]["code"] == "UNAUTHORIZED"
    status, _, reply = await stack.call("GET", JOBS, key="ctx_not_a_real_key")
    assert status == 401 and reply["error"]["code"] == "UNAUTHORIZED"

    reader = await new_key(stack, "default", ["jobs:read"])
    status, _, reply = await stack.call("POST", JOBS, key=reader, json=SPEC)
    assert status == 403 and reply["error"]["code"] == "FORBIDDEN"
    status, _, _ = await stack.call("GET", JOBS, key=reader)
    assert status == 200
    status, _, reply = await stack.call("GET", "/api/auth/keys", key=reader)
    assert status == 403


async def test_tenants_never_see_each_others_jobs(stack: Stack) -> None:
    alice = await new_key(stack, "alice", ["jobs:read", "jobs:write"])
    bob = await new_key(stack, "bob", ["jobs:read", "jobs:write"])
    status, _, reply = await stack.call(
        "POST", JOBS, key=alice, json={**SPEC, "command": ["sleep", "5"]}
    )
    job_id = reply["data"]["id"]
    for method, path in (("GET", f"{JOBS}/{job_id}"), ("POST", f"{JOBS}/{job_id}/cancel")):
        status, _, reply = await stack.call(method, path, key=bob)
        assert status == 404 and reply["error"]["code"] == "JOB_NOT_FOUND"
    _, _, listing = await stack.call("GET", JOBS, key=bob)
    assert listing["data"] == [] and listing["meta"]["pagination"]["total"] == 0
    _, _, listing = await stack.call("GET", JOBS, key=alice)
    assert [j["id"] for j in listing["data"]] == [job_id]
    await stack.call("POST", f"{JOBS}/{job_id}/cancel", key=alice)


async def test_keys_are_shown_once_listed_without_secret_and_revocable(stack: Stack) -> None:
    status, _, reply = await stack.call(
        "POST", "/api/auth/keys", json={"name": "ci", "tenant": "ci", "scopes": ["jobs:read"]}
    )
    assert status == 201
    key, key_id = reply["data"]["key"], reply["data"]["id"]
    _, _, listing = await stack.call("GET", "/api/auth/keys")
    listed = next(k for k in listing["data"] if k["id"] == key_id)
    assert "key" not in listed and key not in str(listing)
    assert (await stack.call("GET", JOBS, key=key))[0] == 200
    status, _, _ = await stack.call("DELETE", f"/api/auth/keys/{key_id}")
    assert status == 200
    assert (await stack.call("GET", JOBS, key=key))[0] == 401
    status, _, reply = await stack.call("DELETE", f"/api/auth/keys/{key_id}")
    assert status == 404
    status, _, reply = await stack.call(
        "POST", "/api/auth/keys", json={"name": "x", "tenant": "t", "scopes": ["root"]}
    )
    assert status == 400 and reply["error"]["details"][0]["field"] == "scopes"


async def test_list_filters_sorts_and_paginates(stack: Stack) -> None:
    ids = [(await stack.submit(command=["sleep", "20"], cpu=100 + i))["id"] for i in range(5)]
    _, _, page1 = await stack.call("GET", f"{JOBS}?limit=2&page=1")
    _, _, page3 = await stack.call("GET", f"{JOBS}?limit=2&page=3")
    assert page1["meta"]["pagination"] == {"total": 5, "page": 1, "limit": 2, "pages": 3}
    assert [j["id"] for j in page1["data"]] == ids[::-1][:2]
    assert [j["id"] for j in page3["data"]] == [ids[0]]
    _, _, ascending = await stack.call("GET", f"{JOBS}?sort=createdAt:asc&limit=100")
    assert [j["id"] for j in ascending["data"]] == ids
    assert "config" not in ascending["data"][0]

    await stack.call("POST", f"{JOBS}/{ids[0]}/cancel")
    await stack.wait_for(ids[0], {"cancelled"})
    _, _, cancelled = await stack.call("GET", f"{JOBS}?status=cancelled")
    assert [j["id"] for j in cancelled["data"]] == [ids[0]]
    _, _, future = await stack.call("GET", f"{JOBS}?from=2999-01-01T00:00:00Z")
    assert future["data"] == []
    _, _, past = await stack.call("GET", f"{JOBS}?to=2000-01-01T00:00:00Z&provider=akash")
    assert past["data"] == []
    for job_id in ids[1:]:
        await stack.call("POST", f"{JOBS}/{job_id}/cancel")


async def test_list_parameters_are_validated(stack: Stack) -> None:
    for query, field in (
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("page=-1", "page"),
        ("status=sleeping", "status"),
        ("provider=aws", "provider"),
        ("from=yesterday", "from"),
        ("sort=cost:desc", "sort"),
        ("sort=createdAt:sideways", "sort"),
        ("colour=red", "colour"),
    ):
        status, _, reply = await stack.call("GET", f"{JOBS}?{query}")
        assert status == 400, query
        assert reply["error"]["details"][0]["field"] == field


async def test_unknown_job_and_route(stack: Stack) -> None:
    status, _, reply = await stack.call("GET", f"{JOBS}/job_doesnotexist")
    assert status == 404 and reply["error"]["code"] == "JOB_NOT_FOUND"
    status, _, reply = await stack.call("GET", "/api/plugin-core/nothing")
    assert status == 404 and reply["success"] is False
    status, _, reply = await stack.call("DELETE", JOBS)
    assert status == 405 and reply["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_rate_limit_answers_429_with_retry_after(
    nats_server: Any, database_url: str, tmp_path: Any
) -> None:
    from cortex_gateway.settings import RateLimit
    from tests.integration.stack import start_stack, stop_stack

    stack = await start_stack(
        nats_server.url,
        database_url,
        tmp_path,
        tenant_rate_limits={"slow": RateLimit(rate=1, burst=3)},
    )
    try:
        key = await new_key(stack, "slow", ["jobs:read"])
        answers = [await stack.call("GET", JOBS, key=key) for _ in range(4)]
        assert [a[0] for a in answers] == [200, 200, 200, 429]
        _, headers, reply = answers[-1]
        assert reply["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert int(headers["Retry-After"]) >= 1
        assert headers["X-RateLimit-Limit"] == "3" and headers["X-RateLimit-Remaining"] == "0"
        # Another tenant is not held back by this one.
        assert (await stack.call("GET", JOBS))[0] == 200
    finally:
        await stop_stack(stack)


async def test_healthz_and_metrics(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(stack.base_url + "/healthz") as r:
            body = await r.json()
            assert r.status == 200, body
            assert body["data"]["checks"]["services"] == {
                "gateway": "up",
                "scheduler": "up",
                "provider-akash": "up",
            }
        async with http.get(stack.base_url + "/metrics") as r:
            assert r.status == 200
            assert "cortex_http_requests_total" in await r.text()


async def test_healthz_fails_when_a_service_stops(stack: Stack) -> None:
    await stack.akash.heartbeat.stop()

    async def down() -> bool:
        async with stack.http.get(stack.base_url + "/healthz") as r:
            return r.status == 503

    from tests.integration.stack import wait_until

    await wait_until(down, timeout=10)
    stack.akash.heartbeat.start()
