"""The Golem devnet over real HTTP: market, activity and payment APIs, control endpoint, faults."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from devnets.golem import GolemDevnet, GolemDevnetSettings, start_golem_devnet, task_package
from devnets.golem.settings import default_providers
from tests.integration.devnets.helpers import (
    alive,
    assert_cli_serves_and_stops,
    eventually,
    serving,
)

PROVIDERS = {p.name: p for p in default_providers()}
NOTE_INTERVAL = 0.3
MARKET = "/market-api/v1"
ACTIVITY = "/activity-api/v1"
PAYMENT = "/payment-api/v1"


class Client:
    """yagna REST calls as a Golem requestor (the adapter) makes them."""

    def __init__(self, session: aiohttp.ClientSession, devnet: GolemDevnet) -> None:
        self.session = session
        self.url = devnet.url
        self.headers = {"Authorization": f"Bearer {devnet.app_key}"}

    async def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, self.url + path, json=body, headers=headers or self.headers
        ) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = await self.call(method, path, body)
        assert 200 <= status < 300, (status, payload)
        return payload

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self.url + path, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def allocate(self, total: str = "10") -> str:
        body = {"totalAmount": total, "paymentPlatform": "erc20-polygon-glm", "makeDeposit": True}
        return str((await self.ok("POST", f"{PAYMENT}/allocations", body))["allocationId"])

    async def subscribe(
        self,
        allocation: str,
        image: str = "alpine:3.20",
        threads: int = 1,
        package: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        decorations = await self.ok(
            "GET", f"{PAYMENT}/demandDecorations?allocationIds={allocation}"
        )
        expiration = int((time.time() + 600) * 1000)
        properties = (
            {
                "golem.srv.comp.task_package": package or task_package(image),
                "golem.srv.comp.vm.package_format": "gvmkit-squash",
                "golem.srv.comp.expiration": expiration,
                "golem.node.debug.subnet": "public",
                "golem.srv.caps.multi-activity": True,
                "golem.com.scheme.payu.debit-note.interval-sec?": 120,
            }
            | {d["key"]: d["value"] for d in decorations["properties"]}
            | (extra or {})
        )
        constraints = (
            "(&(golem.runtime.name=vm)(golem.com.pricing.model=linear)"
            f"(golem.inf.mem.gib>=0.5)(golem.inf.storage.gib>=1)(golem.inf.cpu.threads>={threads})"
            + "".join(decorations["constraints"])
            + ")"
        )
        body = {"properties": properties, "constraints": constraints}
        return str(await self.ok("POST", f"{MARKET}/demands", body))

    async def events(self, sub: str, timeout: float = 1.0) -> list[dict[str, Any]]:
        return list(await self.ok("GET", f"{MARKET}/demands/{sub}/events?timeout={timeout}"))

    async def proposals(self, sub: str, count: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while len(found) < count:
                found += [e["proposal"] for e in await self.events(sub) if "proposal" in e]
        return found

    async def negotiate(self, sub: str, offer: dict[str, Any]) -> str:
        demands = await self.ok("GET", f"{MARKET}/demands")
        demand = next(d for d in demands if d["demandId"] == sub)
        counter = await self.ok(
            "POST",
            f"{MARKET}/demands/{sub}/proposals/{offer['proposalId']}",
            {"properties": demand["properties"], "constraints": demand["constraints"]},
        )
        events = await self.events(sub)
        drafts = [e["proposal"] for e in events if e["proposal"]["prevProposalId"] == counter]
        assert drafts[0]["state"] == "Draft" and drafts[0]["issuerId"] == offer["issuerId"]
        return str(drafts[0]["proposalId"])

    async def agree(self, proposal_id: str) -> str:
        valid_to = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        body = {"proposalId": proposal_id, "validTo": valid_to}
        agreement = str(await self.ok("POST", f"{MARKET}/agreements", body))
        await self.ok("POST", f"{MARKET}/agreements/{agreement}/confirm")
        status, _ = await self.call("POST", f"{MARKET}/agreements/{agreement}/wait?timeout=5")
        assert status == 204
        return agreement

    async def rent(
        self, allocation: str, provider: str = "devnet-cheap", **demand: Any
    ) -> tuple[str, str, str]:
        """Demand → proposal of `provider` → counter → agreement → activity."""
        sub = await self.subscribe(allocation, **demand)
        offers = await self.proposals(sub, len(PROVIDERS))
        offer = next(p for p in offers if p["properties"]["golem.node.id.name"] == provider)
        agreement = await self.agree(await self.negotiate(sub, offer))
        created = await self.ok("POST", f"{ACTIVITY}/activity", {"agreementId": agreement})
        return sub, agreement, str(created["activityId"])

    async def exec(self, activity: str, *commands: dict[str, Any]) -> str:
        body = {"text": json.dumps(list(commands))}
        return str(await self.ok("POST", f"{ACTIVITY}/activity/{activity}/exec", body))

    async def results(self, activity: str, batch: str) -> list[dict[str, Any]]:
        async with asyncio.timeout(10):
            while True:
                path = f"{ACTIVITY}/activity/{activity}/exec/{batch}?timeout=2"
                results = list(await self.ok("GET", path))
                if results and results[-1]["isBatchFinished"]:
                    return results

    async def pids(self, activity: str) -> list[int]:
        state = await self.control("GET", "/control/state")
        return [p["pid"] for p in state["processes"] if p["activityId"] == activity]

    async def close(self, sub: str, agreement: str, allocation: str) -> None:
        """Terminate, pay the invoice, unsubscribe, release the budget."""
        await self.ok("POST", f"{MARKET}/agreements/{agreement}/terminate", {"message": "done"})
        invoice = await self.invoice(agreement)
        accept = {"totalAmountAccepted": invoice["amount"], "allocationId": allocation}
        await self.ok("POST", f"{PAYMENT}/invoices/{invoice['invoiceId']}/accept", accept)
        await self.ok("DELETE", f"{MARKET}/demands/{sub}")
        await self.ok("DELETE", f"{PAYMENT}/allocations/{allocation}")

    async def invoice(self, agreement: str) -> dict[str, Any]:
        for event in await self.ok("GET", f"{PAYMENT}/invoiceEvents?timeout=0"):
            invoice = await self.ok("GET", f"{PAYMENT}/invoices/{event['invoiceId']}")
            if invoice["agreementId"] == agreement:
                return dict(invoice)
        raise AssertionError(f"no invoice for {agreement}")


def deploy(env: dict[str, str] | None = None) -> dict[str, Any]:
    return {"deploy": {"env": env or {}}}


def run(script: str) -> dict[str, Any]:
    capture: dict[str, Any] = {"stdout": {"stream": {}}, "stderr": {"stream": {}}}
    return {"run": {"entry_point": "/bin/sh", "args": ["-c", script], "capture": capture}}


START: dict[str, Any] = {"start": {}}


def expected_cost(offer: dict[str, Any], usage: list[float]) -> Decimal:
    *coeffs, start = (Decimal(repr(c)) for c in offer["golem.com.pricing.model.linear.coeffs"])
    return start + sum(
        (c * Decimal(repr(u)) for c, u in zip(coeffs, usage, strict=True)), Decimal()
    )


@pytest_asyncio.fixture(scope="module")
async def devnet() -> AsyncIterator[GolemDevnet]:
    settings = GolemDevnetSettings(
        zero_delay=True, stop_grace_seconds=1, debit_note_interval_seconds=NOTE_INTERVAL
    )
    net = await start_golem_devnet(settings)
    yield net
    await net.stop()


@pytest_asyncio.fixture
async def client(devnet: GolemDevnet) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, devnet)
        async with session.delete(devnet.url + "/control/faults"):
            pass


async def test_providers_offer_at_their_prices_within_the_demand_constraints(
    client: Client,
) -> None:
    allocation = await client.allocate()
    sub = await client.subscribe(allocation)
    offers = await client.proposals(sub, 3)
    assert {o["properties"]["golem.node.id.name"] for o in offers} == set(PROVIDERS)
    for offer in offers:
        props = offer["properties"]
        provider = PROVIDERS[props["golem.node.id.name"]]
        assert offer["state"] == "Initial" and offer["issuerId"] == provider.node_id
        prices = dict(
            zip(
                props["golem.com.usage.vector"],
                props["golem.com.pricing.model.linear.coeffs"],
                strict=False,
            )
        )
        assert prices["golem.usage.cpu_sec"] == float(provider.cpu_sec_price)
        assert prices["golem.usage.duration_sec"] == float(provider.env_sec_price)
        assert props["golem.com.pricing.model.linear.coeffs"][-1] == float(provider.start_price)
    assert await client.events(sub, timeout=0.2) == []  # events are handed out once

    big = await client.subscribe(allocation, threads=8)
    names = {o["properties"]["golem.node.id.name"] for o in await client.proposals(big, 2)}
    assert names == {"devnet-middle", "devnet-premium"}
    assert await client.events(big, timeout=0.2) == []
    for demand in (sub, big):
        await client.ok("DELETE", f"{MARKET}/demands/{demand}")
    status, _ = await client.call("DELETE", f"{MARKET}/demands/{sub}")
    assert status == 410
    await client.ok("DELETE", f"{PAYMENT}/allocations/{allocation}")


async def test_negotiation_and_agreement_state_machine(client: Client) -> None:
    allocation = await client.allocate()
    sub = await client.subscribe(allocation)
    offer = (await client.proposals(sub, 3))[0]
    body = {"proposalId": offer["proposalId"], "validTo": "2999-01-01T00:00:00Z"}
    status, error = await client.call("POST", f"{MARKET}/agreements", body)
    assert status == 409 and "counter" in error["message"]
    draft = await client.negotiate(sub, offer)
    agreement = str(await client.ok("POST", f"{MARKET}/agreements", body | {"proposalId": draft}))
    status, _ = await client.call("POST", f"{MARKET}/agreements/{agreement}/terminate")
    assert status == 409  # not approved yet: cancel instead
    status, _ = await client.call("POST", f"{MARKET}/agreements/{agreement}/wait?timeout=0.1")
    assert status == 408
    await client.ok("POST", f"{MARKET}/agreements/{agreement}/confirm")
    status, _ = await client.call("POST", f"{MARKET}/agreements/{agreement}/wait?timeout=2")
    assert status == 204
    doc = await client.ok("GET", f"{MARKET}/agreements/{agreement}")
    assert doc["state"] == "Approved" and doc["offer"]["providerId"] == offer["issuerId"]
    await client.close(sub, agreement, allocation)
    status, error = await client.call("POST", f"{MARKET}/agreements/{agreement}/terminate")
    assert status == 410 and error["message"]
    status, _ = await client.call("POST", f"{MARKET}/agreements/{agreement}/wait?timeout=0")
    assert status == 410


async def test_failing_command_reports_output_and_exit_code(client: Client) -> None:
    allocation = await client.allocate()
    sub, agreement, activity = await client.rent(allocation)
    batch = await client.exec(activity, deploy(), START, run("echo hi; exit 3"))
    results = await client.results(activity, batch)
    assert [(r["index"], r["result"]) for r in results] == [(0, "Ok"), (1, "Ok"), (2, "Error")]
    assert results[2]["stdout"] == "hi\n" and results[2]["returnCode"] == 3
    assert "3" in results[2]["message"] and results[2]["isBatchFinished"] is True

    headers = client.headers | {"Accept": "text/event-stream"}
    url = f"{client.url}{ACTIVITY}/activity/{activity}/exec/{batch}"
    async with client.session.get(url, headers=headers) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = await response.text()
    events = [json.loads(x[6:]) for x in text.splitlines() if x.startswith("data: ")]
    kinds = [e["kind"] for e in events if e["index"] == 2]
    assert {"stdout": "hi\n"} in kinds
    assert kinds[-1]["finished"]["return_code"] == 3
    await client.close(sub, agreement, allocation)


async def test_success_path_with_env_usage_and_invoice(client: Client) -> None:
    allocation = await client.allocate()
    sub, agreement, activity = await client.rent(allocation, provider="devnet-middle")
    script = 'echo "$GREETING"; echo err >&2; python3 -c "print(sum(range(10)))"'
    batch = await client.exec(activity, deploy({"GREETING": "hello"}), START, run(script))
    results = await client.results(activity, batch)
    assert all(r["result"] == "Ok" for r in results)
    assert (results[2]["stdout"], results[2]["stderr"]) == ("hello\n45\n", "err\n")
    assert results[2]["returnCode"] == 0
    state = await client.ok("GET", f"{ACTIVITY}/activity/{activity}/state")
    assert state["state"] == ["Ready", None]
    usage = await client.ok("GET", f"{ACTIVITY}/activity/{activity}/usage")
    assert len(usage["currentUsage"]) == 2 and usage["currentUsage"][1] > 0  # duration

    status, _ = await client.call("DELETE", f"{ACTIVITY}/activity/{activity}")
    assert status == 204
    state = await client.ok("GET", f"{ACTIVITY}/activity/{activity}/state")
    assert state["state"][0] == "Terminated"
    await client.close(sub, agreement, allocation)
    invoice = await client.invoice(agreement)
    assert invoice["status"] == "ACCEPTED" and invoice["activityIds"] == [activity]
    assert Decimal(invoice["amount"]) >= PROVIDERS["devnet-middle"].start_price


@pytest.mark.parametrize(
    ("package", "failed_index", "message"),
    [
        ("hash:sha3:" + "0" * 56 + ":http://registry.golem.network/v1/image/download", 0, "image"),
        (task_package("registry.invalid/team/x:1"), 0, "no such host"),
        (task_package("example.org/team/unknown:1.0"), 2, "Failed to pull image"),
    ],
)
async def test_bad_image_fails_like_a_failed_download(
    client: Client, package: str, failed_index: int, message: str
) -> None:
    allocation = await client.allocate()
    sub, agreement, activity = await client.rent(allocation, package=package)
    # The third case deploys (the tag is known) but has no host program without an entry point.
    batch = await client.exec(activity, deploy(), START, {"run": {"args": []}})
    results = await client.results(activity, batch)
    assert len(results) == failed_index + 1
    failed = results[-1]
    assert failed["result"] == "Error" and message in failed["message"]
    assert await client.pids(activity) == []
    await client.close(sub, agreement, allocation)


async def test_deploy_failure_fault(client: Client) -> None:
    allocation = await client.allocate()
    sub, agreement, activity = await client.rent(allocation)
    await client.control("POST", "/control/faults", {"deployFailure": True})
    results = await client.results(activity, await client.exec(activity, deploy(), START))
    assert [r["result"] for r in results] == ["Error"] and "hash mismatch" in results[0]["message"]
    state = await client.ok("GET", f"{ACTIVITY}/activity/{activity}/state")
    assert state["state"][0] == "Initialized" and "hash mismatch" in state["errorMessage"]
    await client.close(sub, agreement, allocation)


async def test_debit_notes_accrue_by_the_linear_price_model(client: Client) -> None:
    allocation = await client.allocate()
    began = time.monotonic()
    sub, agreement, activity = await client.rent(allocation, provider="devnet-premium")
    offer = (await client.ok("GET", f"{MARKET}/agreements/{agreement}"))["offer"]["properties"]
    await client.exec(activity, deploy(), START, run("sleep 30"))
    pid = (await eventually(lambda: client.pids(activity)))[0]

    async def notes() -> list[dict[str, Any]]:
        events = await client.ok("GET", f"{PAYMENT}/debitNoteEvents?timeout=1")
        docs = [await client.ok("GET", f"{PAYMENT}/debitNotes/{e['debitNoteId']}") for e in events]
        mine = [d for d in docs if d["activityId"] == activity]
        return mine if len(mine) >= 3 else []

    mine = await eventually(notes)
    elapsed = time.monotonic() - began
    vector = offer["golem.com.usage.vector"]
    due = [Decimal(n["totalAmountDue"]) for n in mine]
    assert due == sorted(due) and due[0] > 0  # cumulative
    for note in mine:
        usage = note["usageCounterVector"]
        assert abs(Decimal(note["totalAmountDue"]) - expected_cost(offer, usage)) < Decimal("1e-12")
        duration = usage[vector.index("golem.usage.duration_sec")]
        assert 0 < duration <= elapsed
        assert usage[vector.index("golem.usage.cpu_sec")] < duration  # `sleep` barely uses CPU
        assert (note["agreementId"], note["status"]) == (agreement, "RECEIVED")
    last = mine[-1]
    last_duration = last["usageCounterVector"][vector.index("golem.usage.duration_sec")]
    assert last_duration == pytest.approx(NOTE_INTERVAL * len(mine), abs=0.5)
    accept = {"totalAmountAccepted": last["totalAmountDue"], "allocationId": allocation}
    await client.ok("POST", f"{PAYMENT}/debitNotes/{last['debitNoteId']}/accept", accept)
    spent = (await client.ok("GET", f"{PAYMENT}/allocations/{allocation}"))["spentAmount"]
    assert Decimal(spent) == Decimal(last["totalAmountDue"])

    await client.ok("DELETE", f"{ACTIVITY}/activity/{activity}")
    assert not alive(pid)
    await client.close(sub, agreement, allocation)
    assert Decimal((await client.invoice(agreement))["amount"]) >= Decimal(last["totalAmountDue"])


async def test_terminate_stops_the_process_and_ends_the_batch(client: Client) -> None:
    allocation = await client.allocate()
    sub, agreement, activity = await client.rent(allocation)
    batch = await client.exec(activity, deploy(), START, run("echo up; sleep 60"))
    pid = (await eventually(lambda: client.pids(activity)))[0]
    await client.close(sub, agreement, allocation)
    assert not alive(pid)
    results = await client.results(activity, batch)
    assert results[-1]["result"] == "Error" and "terminated" in results[-1]["message"]
    state = await client.ok("GET", f"{ACTIVITY}/activity/{activity}/state")
    assert state["state"][0] == "Terminated"
    status, _ = await client.call("POST", f"{ACTIVITY}/activity/{activity}/exec", {"text": "[]"})
    assert status == 410


async def test_destroyed_activities_leave_no_files_and_only_the_latest_are_kept(
    tmp_path: Path,
) -> None:
    """A daemon running for days does not grow with every activity: a destroyed one's files
    and processes' output copies go at once (its results stay), and only the latest
    `ended_retention` destroyed activities stay queryable."""
    settings = GolemDevnetSettings(
        zero_delay=True, stop_grace_seconds=1, work_dir=tmp_path, ended_retention=1
    )
    async with serving(await start_golem_devnet(settings)) as (net, session):
        client = Client(session, net)
        activities = []
        for _ in range(2):
            allocation = await client.allocate()
            sub, agreement, activity = await client.rent(allocation)
            script = run("echo kept > out.txt; cat out.txt")
            batch = await client.exec(activity, deploy(), START, script)
            assert (await client.results(activity, batch))[-1]["stdout"] == "kept\n"
            assert (tmp_path / activity / "out.txt").read_text() == "kept\n"
            status, _ = await client.call("DELETE", f"{ACTIVITY}/activity/{activity}")
            assert status == 204
            assert not (tmp_path / activity).exists()
            assert net.network.activities[activity].workloads == []
            assert (await client.results(activity, batch))[-1]["stdout"] == "kept\n"
            await client.close(sub, agreement, allocation)
            activities.append(activity)
        status, _ = await client.call("GET", f"{ACTIVITY}/activity/{activities[0]}/state")
        assert status == 404
        state = await client.ok("GET", f"{ACTIVITY}/activity/{activities[1]}/state")
        assert state["state"][0] == "Terminated"


async def test_provider_breaks_the_agreement_mid_run(client: Client) -> None:
    allocation = await client.allocate()
    sub, agreement, activity = await client.rent(allocation)
    await client.exec(activity, deploy(), START, run("sleep 60"))
    pid = (await eventually(lambda: client.pids(activity)))[0]
    broken = await client.control("POST", f"/control/agreements/{agreement}/break", {})
    assert broken == {"agreementId": agreement, "state": "Terminated"}
    assert not alive(pid)
    assert (await client.ok("GET", f"{MARKET}/agreements/{agreement}"))["state"] == "Terminated"
    events = await client.ok("GET", f"{MARKET}/agreementEvents?timeout=0")
    ended = [e for e in events if e["agreementId"] == agreement][-1]
    assert (ended["eventType"], ended["terminator"]) == ("AgreementTerminatedEvent", "Provider")
    state = await client.ok("GET", f"{ACTIVITY}/activity/{activity}/state")
    assert state["state"][0] == "Terminated" and "agreement terminated" in state["reason"]
    status, _ = await client.call("POST", f"{MARKET}/agreements/{agreement}/terminate")
    assert status == 410
    invoice = await client.invoice(agreement)
    accept = {"totalAmountAccepted": invoice["amount"], "allocationId": allocation}
    await client.ok("POST", f"{PAYMENT}/invoices/{invoice['invoiceId']}/accept", accept)
    await client.ok("DELETE", f"{MARKET}/demands/{sub}")
    await client.ok("DELETE", f"{PAYMENT}/allocations/{allocation}")


async def test_unaccepted_debit_note_makes_the_provider_terminate(client: Client) -> None:
    allocation = await client.allocate()
    extra = {"golem.com.payment.debit-notes.accept-timeout?": 0.3}
    sub, agreement, activity = await client.rent(allocation, extra=extra)
    await client.exec(activity, deploy(), START, run("sleep 60"))

    async def terminated() -> bool:
        doc = await client.ok("GET", f"{MARKET}/agreements/{agreement}")
        return bool(doc["state"] == "Terminated")

    await eventually(terminated)

    # The agreement shows Terminated first; its processes stop and the invoice follows.
    async def stopped() -> bool:
        return await client.pids(activity) == []

    await eventually(stopped)
    events = await client.ok("GET", f"{MARKET}/agreementEvents?timeout=0")
    ended = [e for e in events if e["agreementId"] == agreement][-1]
    assert "not accepted" in ended["reason"]["message"]

    async def invoiced() -> dict[str, Any] | None:
        try:
            return await client.invoice(agreement)
        except AssertionError:
            return None

    invoice = await eventually(invoiced)
    accept = {"totalAmountAccepted": invoice["amount"], "allocationId": allocation}
    await client.ok("POST", f"{PAYMENT}/invoices/{invoice['invoiceId']}/accept", accept)
    await client.ok("DELETE", f"{MARKET}/demands/{sub}")
    await client.ok("DELETE", f"{PAYMENT}/allocations/{allocation}")


async def test_market_faults(client: Client) -> None:
    allocation = await client.allocate()
    await client.control("POST", "/control/faults", {"noOffers": True})
    quiet = await client.subscribe(allocation)
    assert await client.events(quiet, timeout=0.5) == []

    await client.control("POST", "/control/faults", {"noOffers": False, "offerDelaySeconds": 0.3})
    late = await client.subscribe(allocation)
    assert await client.events(late, timeout=0) == []
    offers = await client.proposals(late, 3)

    await client.control("POST", "/control/faults", {"rejectAgreements": True})
    body = {"proposalId": await client.negotiate(late, offers[0]), "validTo": "2999-01-01T00:00Z"}
    agreement = str(await client.ok("POST", f"{MARKET}/agreements", body))
    await client.ok("POST", f"{MARKET}/agreements/{agreement}/confirm")
    status, error = await client.call("POST", f"{MARKET}/agreements/{agreement}/wait?timeout=2")
    assert status == 410 and "Rejected" in error["message"]
    for demand in (quiet, late):
        await client.ok("DELETE", f"{MARKET}/demands/{demand}")
    await client.ok("DELETE", f"{PAYMENT}/allocations/{allocation}")


async def test_api_faults_and_auth(client: Client, devnet: GolemDevnet) -> None:
    status, error = await client.call(
        "GET", f"{PAYMENT}/allocations", headers={"Authorization": "Bearer wrong"}
    )
    assert status == 401 and set(error) == {"message"}
    async with client.session.get(
        f"{devnet.url}{PAYMENT}/allocations?authToken={devnet.app_key}"
    ) as response:
        assert response.status == 200
    await client.control("POST", "/control/faults", {"offline": True})
    status, error = await client.call("GET", f"{PAYMENT}/allocations")
    assert status == 503 and error["message"]
    await client.control("POST", "/control/faults", {"offline": False, "apiErrorRate": 1.0})
    status, _ = await client.call("GET", f"{MARKET}/demands")
    assert status == 500
    await client.control("POST", "/control/faults", {"apiErrorRate": 0, "rateLimitRate": 1.0})
    status, _ = await client.call("GET", f"{MARKET}/demands")
    assert status == 429
    await client.control("POST", "/control/faults", {"rateLimitRate": 0, "slowMs": 200})
    began = time.monotonic()
    status, _ = await client.call("GET", f"{MARKET}/demands")
    assert status == 200 and time.monotonic() - began >= 0.2
    faults = await client.control("DELETE", "/control/faults")
    assert faults["slowMs"] == 0 and faults["offline"] is False


async def test_nothing_is_left_open(client: Client) -> None:
    state = await client.control("GET", "/control/state")
    for key in ("demands", "agreements", "activities", "processes", "allocations"):
        assert state[key] == [], key


async def test_command_line_entry_point_serves_and_stops_cleanly(tmp_path: Any) -> None:
    await assert_cli_serves_and_stops(
        "golem", "--app-key", f"{PAYMENT}/allocations", {"Authorization": "Bearer k1"}, tmp_path
    )
