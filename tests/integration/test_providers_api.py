"""`/api/plugin-core/providers`: networks, their health, prices and jobs."""

from __future__ import annotations

from tests.integration.stack import Stack

PROVIDERS = "/api/plugin-core/providers"


async def test_list_get_status_and_pricing(stack: Stack) -> None:
    status, _, body = await stack.call("GET", PROVIDERS)
    assert status == 200
    [akash] = body["data"]
    assert (akash["id"], akash["type"], akash["status"]) == ("akash", "akash", "online")
    assert akash["pricing"]["currency"] == "USD" and akash["pricing"]["cpu"] > 0

    assert (await stack.call("GET", f"{PROVIDERS}?status=online"))[2]["data"] != []
    assert (await stack.call("GET", f"{PROVIDERS}?status=offline"))[2]["data"] == []
    assert (await stack.call("GET", f"{PROVIDERS}?type=render"))[2]["data"] == []
    status, _, body = await stack.call("GET", f"{PROVIDERS}?status=sleepy")
    assert status == 400 and body["error"]["details"][0]["field"] == "status"

    status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/status")
    assert status == 200 and body["data"]["status"] == "online"
    assert body["data"]["lastChecked"].endswith("Z") and body["data"]["latencyMs"] >= 0
    status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/pricing")
    assert status == 200
    assert body["data"]["memory"] > 0 and body["data"]["storage"] > 0
    assert body["data"]["unit"]["cpu"] == "core-hour"


async def test_unknown_provider_is_404(stack: Stack) -> None:
    for path in ("/nowhere", "/nowhere/status", "/nowhere/pricing", "/nowhere/jobs"):
        status, _, body = await stack.call("GET", PROVIDERS + path)
        assert status == 404, path
        assert body["error"]["code"] == "PROVIDER_NOT_FOUND"


async def test_provider_jobs_lists_the_callers_jobs_on_that_network(stack: Stack) -> None:
    job = await stack.submit(command=["sleep", "20"])
    status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/jobs?limit=5")
    assert status == 200
    assert [j["id"] for j in body["data"]] == [job["id"]]
    assert body["meta"]["pagination"]["total"] == 1
    status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/jobs?provider=akash")
    assert status == 400
    await stack.call("POST", f"/api/plugin-core/jobs/{job['id']}/cancel")


async def test_metrics_count_ended_jobs_and_health_checks_per_bucket(stack: Stack) -> None:
    done = await stack.submit(command=["true"])
    failed = await stack.submit(command=["sh", "-c", "exit 4"])
    for job in (done, failed):
        await stack.wait_for(job["id"], {"completed", "failed"})
    status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/metrics?period=1h&resolution=1m")
    assert status == 200, body
    points = body["data"]["points"]
    assert sum(p["jobsCompleted"] for p in points) == 1
    assert sum(p["jobsFailed"] for p in points) == 1
    checked = [p for p in points if p["availability"] is not None]
    assert checked and all(0 < p["availability"] <= 1 for p in checked)
    assert all(p["latencyMs"] >= 0 for p in checked)
    assert [p["timestamp"] for p in points] == sorted(p["timestamp"] for p in points)


async def test_metrics_refuse_unknown_windows_and_too_many_points(stack: Stack) -> None:
    for query, field in [
        ("period=2h", "period"),
        ("resolution=2m", "resolution"),
        ("period=30d&resolution=1m", "resolution"),
        ("period=1h&resolution=1d", "resolution"),
        ("step=1", "step"),
    ]:
        status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/metrics?{query}")
        assert status == 400, query
        assert body["error"]["details"][0]["field"] == field, (query, body)


async def test_pricing_shows_min_max_avg_over_7_and_30_days(stack: Stack) -> None:
    status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/pricing")
    assert status == 200, body
    week = body["data"]["history"]["7d"]
    assert week["samples"] >= 1
    cpu = week["cpu"]
    assert cpu["min"] <= cpu["avg"] <= cpu["max"]
    assert cpu["max"] == body["data"]["cpu"]  # one refresh so far: the current price
    assert body["data"]["history"]["30d"]["samples"] == week["samples"]
