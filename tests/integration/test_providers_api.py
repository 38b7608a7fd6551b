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
