"""A job's whole life on the emulated Golem network (yagna API), through the HTTP API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cortex_provider_golem.bootstrap import build as build_golem
from devnets.golem.app import GolemDevnet
from embedded.nats import NatsServer
from tests.integration.stack import JOBS, Stack, start_stack, stop_stack, wait_until


@pytest.fixture
async def stack(nats_server: NatsServer, database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    running = await start_stack(nats_server.url, database_url, tmp_path, networks=("golem",))
    yield running
    await assert_nothing_open(running)
    await stop_stack(running)


def devnet(stack: Stack) -> GolemDevnet:
    net: Any = stack.networks["golem"].devnet
    assert isinstance(net, GolemDevnet)
    return net


async def submit(stack: Stack, **spec: Any) -> dict[str, Any]:
    return await stack.submit(provider="golem", **spec)


async def assert_nothing_open(stack: Stack) -> None:
    """No demand, agreement, activity, process or allocation left on the devnet."""

    async def released() -> bool:
        return not await stack.leaks("golem")

    try:
        await wait_until(released, timeout=10)
    except TimeoutError:
        raise AssertionError(f"left open on golem: {await stack.leaks('golem')}") from None


async def faults(stack: Stack, body: dict[str, Any]) -> None:
    await stack.control("POST", "/control/faults", body, network="golem")


async def test_job_completes_with_its_exit_code_cost_and_paid_invoice(stack: Stack) -> None:
    started = time.monotonic()
    job = await submit(stack, command=["sh", "-c", "echo hello; sleep 0.3"])
    done = await stack.wait_for(job["id"], {"completed", "failed"})
    elapsed = time.monotonic() - started
    assert done["status"] == "completed", done
    assert done["results"]["exitCode"] == 0
    assert [e["type"] for e in done["events"]] == ["created", "scheduled", "started", "completed"]
    scheduled = next(e for e in done["events"] if e["type"] == "scheduled")
    assert done["cost"]["final"] == done["cost"]["current"] > 0
    await assert_nothing_open(stack)

    # The cheapest acceptable offer won; its invoice was accepted before the allocation went.
    market = devnet(stack).network.market
    [agreement] = market.agreements.values()
    assert agreement.provider.name == "devnet-cheap"
    assert agreement.state == "Terminated"
    [invoice] = devnet(stack).network.payments.invoices.values()
    assert invoice.agreement_id == agreement.agreement_id and invoice.status == "ACCEPTED"
    print(f"golem: submit → completed in {elapsed:.2f} s; scheduled event {scheduled}")


async def test_non_zero_exit_fails_with_the_exit_code(stack: Stack) -> None:
    job = await submit(stack, command=["sh", "-c", "echo boom >&2; exit 3"])
    done = await stack.wait_for(job["id"], {"completed", "failed"})
    assert done["status"] == "failed"
    assert done["results"]["exitCode"] == 3
    assert "code 3" in done["reason"]
    await assert_nothing_open(stack)


async def test_image_that_cannot_be_pulled_fails_with_the_reason(stack: Stack) -> None:
    job = await submit(stack, image="registry.invalid/x:1", command=["true"])
    done = await stack.wait_for(job["id"], {"completed", "failed"})
    assert done["status"] == "failed"
    assert "pull" in done["reason"] and "registry.invalid" in done["reason"], done["reason"]
    await assert_nothing_open(stack)


async def test_no_offers_within_the_timeout_fails_with_a_reason(stack: Stack) -> None:
    await faults(stack, {"noOffers": True})
    job = await submit(stack, command=["true"])
    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=20)
    assert done["status"] == "failed"
    assert "no offers" in done["reason"] and "within 3 s" in done["reason"], done["reason"]
    await assert_nothing_open(stack)


async def test_agreement_broken_by_the_provider_mid_run_fails_the_job(stack: Stack) -> None:
    job = await submit(stack, command=["sleep", "30"])
    await stack.wait_for(job["id"], {"running"})
    [agreement] = (await stack.devnet_state("golem"))["agreements"]
    await stack.control(
        "POST",
        f"/control/agreements/{agreement['agreementId']}/break",
        {"message": "provider is going away"},
        network="golem",
    )
    done = await stack.wait_for(job["id"], {"completed", "failed"})
    assert done["status"] == "failed"
    assert "agreement lost" in done["reason"] and "provider is going away" in done["reason"]
    await assert_nothing_open(stack)
    [invoice] = devnet(stack).network.payments.invoices.values()
    assert invoice.status == "ACCEPTED"


async def test_api_errors_are_retried_without_a_second_agreement_or_activity(
    stack: Stack,
) -> None:
    job = await submit(stack, command=["sh", "-c", "sleep 0.5"])
    await faults(stack, {"apiErrorRate": 0.3})
    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=60)
    await faults(stack, {"apiErrorRate": 0.0})
    assert done["status"] == "completed", done
    network = devnet(stack).network
    assert len(network.market.agreements) == 1
    assert len(network.activities) == 1
    await assert_nothing_open(stack)


async def test_cancel_while_running_releases_everything(stack: Stack) -> None:
    job = await submit(stack, command=["sleep", "30"])
    await stack.wait_for(job["id"], {"running"})
    status, _, _ = await stack.call("POST", f"{JOBS}/{job['id']}/cancel")
    assert status == 200
    done = await stack.wait_for(job["id"], {"cancelled"})
    assert [e["type"] for e in done["events"]][-2:] == ["cancel_requested", "cancelled"]
    await assert_nothing_open(stack)


async def test_cancel_while_pending_withdraws_the_demand(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(
        nats_server.url, database_url, tmp_path, networks=("golem",), offer_timeout=30.0
    )
    try:
        await faults(stack, {"noOffers": True})
        job = await submit(stack, command=["sleep", "30"])

        async def demanded() -> bool:
            return bool((await stack.devnet_state("golem"))["demands"])

        await wait_until(demanded)
        assert (await stack.job(job["id"]))["status"] == "pending"
        status, _, _ = await stack.call("POST", f"{JOBS}/{job['id']}/cancel")
        assert status == 200
        done = await stack.wait_for(job["id"], {"cancelled"})
        assert done["startedAt"] is None
        await assert_nothing_open(stack)
    finally:
        await stop_stack(stack)


async def test_cancel_while_scheduled_ends_the_agreement(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    # Real delays, so the image "download" (deploy) holds the job in `scheduled`.
    stack = await start_stack(
        nats_server.url,
        database_url,
        tmp_path,
        networks=("golem",),
        golem_zero_delay=False,
        deploy_seconds=30.0,
    )
    try:
        await faults(stack, {"offerDelaySeconds": 0})
        job = await submit(stack, command=["sleep", "30"])
        await stack.wait_for(job["id"], {"scheduled"})
        assert (await stack.devnet_state("golem"))["activities"]
        status, _, _ = await stack.call("POST", f"{JOBS}/{job['id']}/cancel")
        assert status == 200
        done = await stack.wait_for(job["id"], {"cancelled"})
        assert done["startedAt"] is None
        await assert_nothing_open(stack)
    finally:
        await stop_stack(stack)


async def test_debit_notes_are_accepted_so_a_long_job_is_not_terminated(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(
        nats_server.url,
        database_url,
        tmp_path,
        networks=("golem",),
        debit_note_interval=0.3,
        debit_note_accept_timeout=1,
    )
    try:
        job = await submit(stack, command=["sleep", "3"])
        done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=30)
        assert done["status"] == "completed", done
        notes = list(devnet(stack).network.payments.debit_notes.values())
        assert len(notes) >= 3  # > 1 s accept timeout's worth: unaccepted, the job would die
        assert all(n.status == "ACCEPTED" for n in notes)
        await assert_nothing_open(stack)
    finally:
        await stop_stack(stack)


async def test_extend_within_the_agreement_validity_and_refused_beyond(stack: Stack) -> None:
    job = await submit(stack, command=["sleep", "30"], duration=2)
    await stack.wait_for(job["id"], {"running"})
    status, _, body = await stack.call("POST", f"{JOBS}/{job['id']}/extend", json={"duration": 600})
    assert status == 200, body
    assert body["data"]["duration"] == 602
    await asyncio.sleep(2.5)  # past the original deadline it keeps running
    assert (await stack.job(job["id"]))["status"] == "running"

    status, _, body = await stack.call(
        "POST", f"{JOBS}/{job['id']}/extend", json={"duration": 7200}
    )
    assert status == 409 and body["error"]["code"] == "PROVIDER_CONFLICT"
    assert "valid until" in body["error"]["message"]
    await stack.call("POST", f"{JOBS}/{job['id']}/cancel")
    await stack.wait_for(job["id"], {"cancelled"})
    await assert_nothing_open(stack)


async def test_price_is_the_cheapest_offer_in_usd(stack: Stack) -> None:
    price = stack.scheduler.prices.get("golem")
    assert price is not None
    # devnet-cheap: 0.0001 GLM/cpu-s + 0.00002 GLM/s, at the default 0.25 USD/GLM.
    assert price.cpu_core_hour == pytest.approx((0.0001 + 0.00002) * 3600 * 0.25)
    assert price.memory_gb_hour == 0 and price.storage_gb_hour == 0
    await assert_nothing_open(stack)  # the price probe's demand is withdrawn


async def test_a_run_over_the_vm_memory_fails_out_of_memory(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    stack = await start_stack(
        nats_server.url, database_url, tmp_path, networks=("golem",), enforce_memory_limit=True
    )
    try:
        hog = "x = bytearray(2 * 1024 * 1024 * 1024); print(len(x))"
        job = await submit(
            stack, image="python:3.11-slim", memory="256Mi", command=["python3", "-c", hog]
        )
        done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=30)
        assert done["status"] == "failed", done
        assert "out of memory" in done["reason"], done
        await assert_nothing_open(stack)
    finally:
        await stop_stack(stack)


async def test_a_restart_mid_deploy_resumes_with_one_agreement_and_nothing_left(
    stack: Stack,
) -> None:
    await faults(stack, {"noOffers": True})
    job = await submit(stack, command=["sh", "-c", "sleep 0.3"])

    async def demanded() -> bool:
        return bool((await stack.devnet_state("golem"))["demands"])

    await wait_until(demanded)
    # The service stops while its deploy waits for offers (as a crash would, at an await).
    golem = stack.networks["golem"]
    await golem.service.stop()
    await faults(stack, {"noOffers": False})
    golem.service = build_golem(golem.service.settings)
    await golem.service.start()

    done = await stack.wait_for(job["id"], {"completed", "failed"}, timeout=30)
    assert done["status"] == "completed", done
    assert golem.created_for(job["id"]) == 1
    await assert_nothing_open(stack)  # the first demand, whose offers were lost, withdrawn too
