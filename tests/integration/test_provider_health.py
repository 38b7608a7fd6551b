"""A network that is offline, or whose provider service went quiet, takes no jobs (503)."""

from __future__ import annotations

from pathlib import Path

import nats

from embedded.nats import NatsServer
from tests.integration.stack import JOBS, SPEC, Stack, start_stack, stop_stack, wait_until


async def job_count(stack: Stack) -> int:
    _, _, listing = await stack.call("GET", JOBS)
    total: int = listing["meta"]["pagination"]["total"]
    return total


async def status_events(stack: Stack) -> list[str]:
    js = stack.scheduler.js
    info = await js.stream_info("EVENTS")
    nc = await nats.connect(stack.scheduler.settings.nats_url)
    sub = await nc.jetstream().subscribe("cortex.events.provider.akash.>", ordered_consumer=True)
    found = []
    for _ in range(info.state.messages):
        try:
            msg = await sub.next_msg(timeout=0.5)
        except TimeoutError:
            break
        found.append(msg.data.decode())
    await nc.close()
    return found


async def test_offline_network_answers_503_and_creates_nothing(stack: Stack) -> None:
    await stack.control("POST", "/control/faults", {"offline": True})

    async def refused() -> bool:
        status, _, _ = await stack.call("POST", JOBS, json=SPEC)
        return status == 503

    await wait_until(refused, timeout=15)
    status, _, body = await stack.call("POST", JOBS, json=SPEC)
    assert status == 503
    assert body["error"]["code"] == "PROVIDER_UNAVAILABLE"
    assert body["error"]["details"]["provider"] == "akash"
    assert body["error"]["details"]["status"] == "offline"
    before = await job_count(stack)

    await stack.control("DELETE", "/control/faults")

    async def accepted() -> bool:
        status, _, _ = await stack.call("POST", JOBS, json={**SPEC, "command": ["true"]})
        return status == 201

    await wait_until(accepted, timeout=15)
    assert await job_count(stack) == before + 1  # the refused attempts created nothing
    events = await status_events(stack)
    assert any('"status":"offline"' in e for e in events), events
    # Recovery is announced too (degraded first while failures are still in the error window).
    assert any('"previous":"offline"' in e and '"status":"offline"' not in e for e in events), (
        events
    )


async def test_a_provider_service_that_stops_reporting_makes_its_network_unavailable(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(nats_server.url, database_url, tmp_path, provider_stale_after=1.0)
    try:
        assert (await stack.call("POST", JOBS, json={**SPEC, "command": ["true"]}))[0] == 201
        await stack.akash.health.stop()  # as if the service had died

        async def refused() -> bool:
            status, _, _ = await stack.call("POST", JOBS, json=SPEC)
            return status == 503

        await wait_until(refused, timeout=10)
        _, _, body = await stack.call("POST", JOBS, json=SPEC)
        assert "stopped reporting" in body["error"]["message"]
        stack.akash.health.start()
        await wait_until(lambda: _accepts(stack), timeout=10)
    finally:
        await stop_stack(stack)


async def _accepts(stack: Stack) -> bool:
    status, _, _ = await stack.call("POST", JOBS, json={**SPEC, "command": ["true"]})
    return status == 201


async def test_a_price_change_is_published_and_announced(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(nats_server.url, database_url, tmp_path, price_refresh=0.2)
    try:
        before = stack.scheduler.prices.get("akash")
        assert before is not None
        for provider in stack.devnet.network._providers.values():  # the network's providers reprice
            provider.cpu_uact *= 2

        async def repriced() -> bool:
            now = stack.scheduler.prices.get("akash")
            return now is not None and now.cpu_core_hour > before.cpu_core_hour * 1.5

        await wait_until(repriced, timeout=10)
        _, _, body = await stack.call("GET", "/api/plugin-core/providers/akash/pricing")
        assert body["data"]["cpu"] > before.cpu_core_hour * 1.5
        events = [e for e in await status_events(stack) if "provider.pricing.changed" in e]
        assert events and '"previous"' in events[0]
    finally:
        await stop_stack(stack)
