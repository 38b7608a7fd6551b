"""Admin configuration of a provider through the Providers API, applied without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedded.nats import NatsServer
from tests.integration.stack import Stack, start_stack, stop_stack, wait_until
from tests.integration.test_jobs_api import new_key

PROVIDERS = "/api/plugin-core/providers"


async def test_a_price_ceiling_set_through_the_api_applies_to_the_next_job(stack: Stack) -> None:
    status, _, body = await stack.call("GET", f"{PROVIDERS}/akash/config")
    assert status == 200 and body["data"]["configured"] is False
    assert body["data"]["config"]["apiKey"] == "[REDACTED]"

    status, _, body = await stack.call(
        "POST", PROVIDERS, json={"id": "akash", "config": {"maxPrice": 1}}
    )
    assert status == 201, body
    assert body["data"]["config"]["maxPrice"] == 1 and body["data"]["overrides"] == ["maxPrice"]
    job = await stack.submit(command=["true"])
    done = await stack.wait_for(job["id"], {"completed", "failed"})
    assert done["status"] == "failed" and "max price 1 " in done["reason"], done

    status, _, body = await stack.call("POST", PROVIDERS, json={"id": "akash", "config": {}})
    assert status == 409 and body["error"]["code"] == "PROVIDER_CONFLICT"

    status, _, body = await stack.call(
        "PUT", f"{PROVIDERS}/akash", json={"config": {"maxPrice": None}}
    )
    assert status == 200 and body["data"]["config"]["maxPrice"] == 10_000, body
    job = await stack.submit(command=["true"])
    assert (await stack.wait_for(job["id"], {"completed", "failed"}))["status"] == "completed"

    status, _, body = await stack.call("DELETE", f"{PROVIDERS}/akash")
    assert status == 200 and body["data"]["configured"] is False


async def test_credentials_are_sealed_at_rest_redacted_and_applied_live(stack: Stack) -> None:
    wrong = "wrong-key-" + "z" * 20
    status, _, body = await stack.call(
        "PUT", f"{PROVIDERS}/akash", json={"config": {"apiKey": wrong}}
    )
    assert status == 200, body
    assert body["data"]["config"]["apiKey"] == "[REDACTED]"
    assert wrong not in str(body)
    sealed = await stack.akash.pool.fetchval(
        "SELECT public::text || sealed::text FROM akash.config"
    )
    assert wrong not in sealed and "apiKey" in sealed

    async def status_of() -> str:
        _, _, reply = await stack.call("GET", f"{PROVIDERS}/akash/status")
        return str(reply["data"]["status"])

    async def refused() -> bool:  # the devnet rejects the wrong key: health shows it
        return await status_of() != "online"

    await wait_until(refused, timeout=10)
    # Sending the redacted value back keeps the stored secret; deleting restores the settings.
    status, _, _ = await stack.call(
        "PUT", f"{PROVIDERS}/akash", json={"config": {"apiKey": "[REDACTED]"}}
    )
    assert status == 200
    assert await stack.akash.config.stored() == {"apiKey": wrong}
    await stack.call("DELETE", f"{PROVIDERS}/akash")

    async def online() -> bool:
        return await status_of() == "online"

    await wait_until(online, timeout=10)


async def test_bad_configuration_is_refused_naming_the_field_and_nothing_is_stored(
    stack: Stack,
) -> None:
    for config, field in [
        ({"maxPrice": "lots"}, "config.maxPrice"),
        ({"bidWindow": -1, "nope": 1}, "config.nope"),
    ]:
        status, _, body = await stack.call("PUT", f"{PROVIDERS}/akash", json={"config": config})
        assert status == 400, body
        assert body["error"]["details"][0]["field"] == field, body
    status, _, body = await stack.call("PUT", f"{PROVIDERS}/akash", json={"config": [1]})
    assert status == 400 and body["error"]["details"][0]["field"] == "config"
    status, _, body = await stack.call("POST", PROVIDERS, json={"id": "mars", "config": {}})
    assert status == 400 and body["error"]["details"][0]["field"] == "id"
    status, _, body = await stack.call("PUT", f"{PROVIDERS}/mars", json={"config": {}})
    assert status == 404 and body["error"]["code"] == "PROVIDER_NOT_FOUND"
    assert await stack.akash.config.stored() is None

    reader = await new_key(stack, "acme", ["jobs:read", "jobs:write"])
    for method, path in [("GET", "/akash/config"), ("PUT", "/akash"), ("DELETE", "/akash")]:
        status, _, body = await stack.call(
            method, PROVIDERS + path, key=reader, json={"config": {}}
        )
        assert status == 403, (method, path, body)


SECRET_FIELD = {"akash": "apiKey", "render": "apiKey", "golem": "appKey"}


@pytest.mark.parametrize("network", sorted(SECRET_FIELD))
async def test_every_network_takes_new_credentials_live_and_redacts_them(
    network: str, nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(nats_server.url, database_url, tmp_path, networks=(network,))
    try:
        field = SECRET_FIELD[network]
        path = f"{PROVIDERS}/{network}"
        status, _, body = await stack.call("PUT", path, json={"config": {field: "not-the-key"}})
        assert status == 200 and body["data"]["config"][field] == "[REDACTED]", body

        async def status_is(wanted: set[str]) -> bool:
            _, _, reply = await stack.call("GET", f"{path}/status")
            return reply["data"]["status"] in wanted

        await wait_until(lambda: status_is({"degraded", "offline"}), timeout=10)
        status, _, body = await stack.call("DELETE", path)
        assert status == 200 and body["data"]["configured"] is False
        await wait_until(lambda: status_is({"online"}), timeout=10)
        job = await stack.submit(provider=network, command=["true"])
        assert (await stack.wait_for(job["id"], {"completed", "failed"}, timeout=60))[
            "status"
        ] == "completed"
    finally:
        await stop_stack(stack)
