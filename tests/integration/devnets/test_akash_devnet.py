"""The Akash devnet over real HTTP: Console API, provider gateways, control endpoint, faults."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import statistics
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil
import pytest
import pytest_asyncio
import yaml

from devnets.akash import AkashDevnet, AkashDevnetSettings, start_akash_devnet
from devnets.akash.gateway_server import WRITE_BUFFER_LIMIT
from devnets.akash.settings import default_providers
from provider_runtime.websocket import text_stream
from tests.integration.devnets.helpers import assert_cli_serves_and_stops, eventually, serving

SMALL = {"cpu": 0.1, "memory": "64Mi", "storage": "128Mi"}
SMALL_BYTES = (100, 64 * 2**20, 128 * 2**20)
PROVIDERS = default_providers()
PRICES = sorted(p.price_uact(*SMALL_BYTES) for p in PROVIDERS)


class Client:
    """Console + gateway calls as the Akash adapter makes them."""

    def __init__(self, session: aiohttp.ClientSession, devnet: AkashDevnet) -> None:
        self.session = session
        self.url = devnet.url
        self.headers = {"x-api-key": devnet.api_key}

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(
            method, self.url + path, json=body, headers=self.headers
        ) as response:
            return response.status, await response.json()

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = await self.call(method, path, body)
        assert status in (200, 201), payload
        return payload["data"]

    async def deploy(self, ceiling: int = 1000, name: str | None = None, **service: Any) -> str:
        body: dict[str, Any] = {"sdl": sdl(ceiling=ceiling, **service)}
        if name is not None:
            body["name"] = name
        created = await self.ok("POST", "/v1/deployments", {"data": body})
        assert created["signTx"]["code"] == 0
        return str(created["dseq"])

    async def bids(self, dseq: str) -> list[dict[str, Any]]:
        return list(await self.ok("GET", f"/v1/bids?dseq={dseq}"))

    async def lease(self, dseq: str, provider: str | None = None) -> dict[str, Any]:
        bids = await self.bids(dseq)
        assert bids, "no bids"
        if provider is None:
            cheapest = min(bids, key=lambda b: Decimal(b["bid"]["price"]["amount"]))
            provider = cheapest["bid"]["id"]["provider"]
        entry = {"dseq": dseq, "gseq": 1, "oseq": 1, "provider": provider}
        return dict(await self.ok("POST", "/v1/leases", {"manifest": "[]", "leases": [entry]}))

    async def gateway(self, dseq: str) -> tuple[str, dict[str, str]]:
        deployment = await self.ok("GET", f"/v1/deployments/{dseq}")
        provider = deployment["leases"][0]["id"]["provider"]
        host_uri = (await self.ok("GET", f"/v1/providers/{provider}"))["hostUri"]
        jwt = {"ttl": 600, "leases": {"access": "full"}}
        token = (await self.ok("POST", "/v1/create-jwt-token", {"data": jwt}))["token"]
        return f"{host_uri}/lease/{dseq}/1/1", {"Authorization": f"Bearer {token}"}

    async def running_gateway(self) -> tuple[str, str, dict[str, str]]:
        """A lease whose workload sleeps: its dseq, gateway base URL and auth header."""
        dseq = await self.deploy(command=["sh", "-c", "sleep 30"])
        await self.lease(dseq)
        base, auth = await self.gateway(dseq)
        return dseq, base, auth

    async def status(self, dseq: str) -> dict[str, Any]:
        base, auth = await self.gateway(dseq)
        async with self.session.get(base + "/status", headers=auth) as response:
            assert response.status == 200
            return dict(await response.json())

    async def websocket(
        self, dseq: str, kind: str, query: str, until: Callable[[list[Any]], bool] | None = None
    ) -> tuple[list[dict[str, Any]], int | None]:
        base, auth = await self.gateway(dseq)
        messages: list[dict[str, Any]] = []
        async with (
            self.session.ws_connect(f"{base}/{kind}?{query}", headers=auth) as ws,
            asyncio.timeout(10),
        ):
            async for message in ws:
                messages.append(json.loads(message.data))
                if until is not None and until(messages):
                    break
        return messages, ws.close_code

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self.url + path, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()


def sdl(
    ceiling: int = 1000,
    image: str = "alpine:3.20",
    command: list[str] | None = None,
    expose: list[dict[str, Any]] | None = None,
) -> str:
    service: dict[str, Any] = {"image": image, "expose": expose or []}
    if command is not None:
        service["command"] = command
    resources = {
        "cpu": {"units": SMALL["cpu"]},
        "memory": {"size": SMALL["memory"]},
        "storage": [{"size": SMALL["storage"]}],
    }
    doc = {
        "version": "2.0",
        "services": {"app": service},
        "profiles": {
            "compute": {"app": {"resources": resources}},
            "placement": {"dcloud": {"pricing": {"app": {"denom": "uact", "amount": ceiling}}}},
        },
        "deployment": {"app": {"dcloud": {"profile": "app", "count": 1}}},
    }
    return yaml.safe_dump(doc)


def reasons(events: list[dict[str, Any]]) -> list[str]:
    return [event["reason"] for event in events]


@pytest_asyncio.fixture(scope="module")
async def devnet() -> AsyncIterator[AkashDevnet]:
    net = await start_akash_devnet(AkashDevnetSettings(zero_delay=True, stop_grace_seconds=1))
    yield net
    await net.stop()


@pytest_asyncio.fixture
async def client(devnet: AkashDevnet) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, devnet)
        async with session.delete(devnet.url + "/control/faults"):
            pass


async def test_bids_only_at_or_below_the_ceiling(client: Client) -> None:
    ceiling = PRICES[1]  # the two cheapest providers qualify, the third is too expensive
    dseq = await client.deploy(ceiling=ceiling, name="job-bids")
    bids = await client.bids(dseq)
    assert sorted(Decimal(b["bid"]["price"]["amount"]) for b in bids) == PRICES[:2]
    for bid in bids:
        assert bid["bid"]["state"] == "open"
        assert bid["bid"]["id"]["dseq"] == dseq
        assert {"owner", "gseq", "oseq", "provider", "bseq"} <= set(bid["bid"]["id"])
        assert bid["bid"]["price"]["denom"] == "uact"
        assert bid["bid"]["resources_offer"][0]["resources"]["cpu"]["units"]["val"] == "100"
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_bids_arrive_later_with_a_bid_delay(client: Client) -> None:
    await client.control("POST", "/control/faults", {"bidDelaySeconds": 0.3})
    dseq = await client.deploy()
    assert await client.bids(dseq) == []
    bids = await eventually(lambda: client.bids(dseq))
    assert bids[0]["bid"]["state"] == "open"
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_job_output_reaches_logs_and_exit_reaches_kubeevents(client: Client) -> None:
    script = "echo hello; echo err >&2; exit 3"
    dseq = await client.deploy(command=["sh", "-c", script])
    bids = await client.bids(dseq)
    cheapest = min(bids, key=lambda b: Decimal(b["bid"]["price"]["amount"]))["bid"]["id"]
    leased = await client.lease(dseq)
    lease = leased["leases"][0]
    assert lease["id"]["provider"] == cheapest["provider"]
    assert lease["state"] == "active"
    states = {b["bid"]["id"]["provider"]: b["bid"]["state"] for b in await client.bids(dseq)}
    assert states.pop(cheapest["provider"]) == "active"
    assert set(states.values()) == {"lost"}

    logs, code = await client.websocket(dseq, "logs", "follow=true&tail=-1")
    assert code == 1000
    assert sorted(m["message"] for m in logs) == ["err", "hello"]
    assert all(m["name"].startswith("app-") for m in logs)

    events, _ = await client.websocket(
        dseq, "kubeevents", "follow=true", until=lambda ms: ms[-1]["reason"] == "Error"
    )
    assert reasons(events)[:3] == ["Scheduled", "Pulling", "Pulled"]
    assert "Started" in reasons(events)
    assert events[-1]["note"] == "container exited with code 3"
    assert events[-1]["type"] == "Warning"
    assert events[-1]["object"]["kind"] == "Pod"
    assert (await client.status(dseq))["services"]["app"]["ready_replicas"] == 0

    tail, _ = await client.websocket(dseq, "logs", "follow=false&tail=1")
    assert len(tail) == 1
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_a_quiet_stream_answers_the_readers_heartbeat(client: Client) -> None:
    """The provider pings a stream silent for its heartbeat and drops it when unanswered: a
    workload quiet for longer must keep its log stream (the devnet reads and answers)."""
    dseq = await client.deploy(command=["sh", "-c", "sleep 1; echo done"])
    await client.lease(dseq)
    base, auth = await client.gateway(dseq)
    async with asyncio.timeout(10):
        async with text_stream(f"{base}/logs?follow=true&tail=-1", auth, heartbeat=0.2) as lines:
            received = [json.loads(text)["message"] async for text in lines]
    assert received == ["done"]
    assert lines.close_code == 1000
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


@pytest.mark.parametrize("published", [80, 8080])
async def test_nginx_serves_http_on_its_uri_or_forwarded_port(
    client: Client, published: int
) -> None:
    expose = [{"port": 80, "as": published, "proto": "tcp", "to": [{"global": True}]}]
    dseq = await client.deploy(image="nginx:alpine", expose=expose)
    await client.lease(dseq)

    async def ready() -> dict[str, Any] | None:
        status = await client.status(dseq)
        return status if status["services"]["app"]["ready_replicas"] == 1 else None

    status = await eventually(ready)
    service = status["services"]["app"]
    assert (service["total"], service["available"], status["ips"]) == (1, 1, None)
    if published == 80:
        assert status["forwarded_ports"] == {}
        url = f"http://{service['uris'][0]}/"
    else:
        assert service["uris"] == []
        port = status["forwarded_ports"]["app"][0]
        assert (port["port"], port["host"], port["available"]) == (80, "127.0.0.1", 1)
        url = f"http://{port['host']}:{port['externalPort']}/"

    async def page() -> str | None:
        try:
            async with client.session.get(url) as response:
                return await response.text()
        except aiohttp.ClientConnectionError:
            return None

    assert "Welcome to nginx!" in await eventually(page)
    deployment = await client.ok("GET", f"/v1/deployments/{dseq}")
    assert deployment["leases"][0]["status"]["services"]["app"]["ready_replicas"] == 1
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


@pytest.mark.parametrize(
    ("image", "command"),
    [("example.org/team/unknown:1.0", None), ("registry.invalid/x:1", ["sh", "-c", "echo hi"])],
)
async def test_unpullable_image_reports_pull_failure(
    client: Client, image: str, command: list[str] | None
) -> None:
    dseq = await client.deploy(image=image, command=command)
    await client.lease(dseq)
    events, _ = await client.websocket(
        dseq, "kubeevents", "follow=true", until=lambda ms: ms[-1]["reason"] == "BackOff"
    )
    failed = [e for e in events if e["reason"] == "Failed"]
    assert failed[0]["note"].startswith(f'Failed to pull image "{image}": ')
    assert failed[0]["type"] == "Warning"
    assert "Error: ErrImagePull" in [e["note"] for e in failed]
    assert (await client.status(dseq))["services"]["app"]["ready_replicas"] == 0
    deployment = await client.ok("GET", f"/v1/deployments/{dseq}")
    assert deployment["leases"][0]["state"] == "active"
    _, code = await client.websocket(dseq, "logs", "follow=true")
    assert code == 4000
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_close_stops_the_process_and_leaves_nothing_open(client: Client) -> None:
    dseq = await client.deploy(command=["sh", "-c", "echo up; sleep 60"], name="job-close")
    await client.lease(dseq)

    async def running() -> list[dict[str, Any]]:
        state = await client.control("GET", "/control/state")
        return [w for w in state["workloads"] if w["dseq"] == dseq and w["state"] == "running"]

    pid = (await eventually(running))[0]["pid"]
    assert psutil.pid_exists(pid)
    base, auth = await client.gateway(dseq)

    assert await client.ok("DELETE", f"/v1/deployments/{dseq}") == {"success": True}
    assert not _alive(pid)
    deployment = await client.ok("GET", f"/v1/deployments/{dseq}")
    assert deployment["deployment"]["state"] == "closed"
    lease = deployment["leases"][0]
    assert (lease["state"], lease["reason"], lease["status"]) == (
        "closed",
        "lease_closed_owner",
        None,
    )
    assert deployment["escrow_account"]["state"]["state"] == "closed"
    status, error = await client.call("DELETE", f"/v1/deployments/{dseq}")
    assert (status, error["error"]) == (409, "ConflictError")
    async with client.session.get(base + "/status", headers=auth) as response:
        assert response.status == 404
    async with client.session.ws_connect(base + "/logs?follow=true", headers=auth) as ws:
        await ws.receive()
    assert ws.close_code == 4001

    state = await client.control("GET", "/control/state")
    assert not any(d["dseq"] == dseq for d in state["deployments"])
    assert state["workloads"] == [] and state["leases"] == []
    assert state["deployments"] == []  # every test so far closed what it opened


async def test_no_bids_fault(client: Client) -> None:
    await client.control("POST", "/control/faults", {"noBids": True})
    dseq = await client.deploy()
    assert await client.bids(dseq) == []
    status, error = await client.call(
        "POST",
        "/v1/leases",
        {"manifest": "[]", "leases": [{"dseq": dseq, "gseq": 1, "oseq": 1, "provider": "x"}]},
    )
    assert status == 404 and error["message"]
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_offline_error_rate_and_slow_faults(client: Client) -> None:
    await client.control("POST", "/control/faults", {"offline": True})
    status, error = await client.call("GET", "/v1/deployments")
    assert status == 503 and set(error) == {"error", "message"}
    await client.control("POST", "/control/faults", {"offline": False, "apiErrorRate": 1.0})
    status, error = await client.call("GET", "/v1/deployments")
    assert (status, error["error"]) == (500, "InternalServerError")
    await client.control("POST", "/control/faults", {"apiErrorRate": 0, "slowMs": 300})
    began = asyncio.get_running_loop().time()
    status, _ = await client.call("GET", "/v1/deployments")
    assert status == 200 and asyncio.get_running_loop().time() - began >= 0.3
    faults = await client.control("DELETE", "/control/faults")
    assert faults["apiErrorRate"] == 0
    status, _ = await client.call("GET", "/v1/deployments")
    assert status == 200


async def test_provider_closes_the_lease_mid_run(client: Client) -> None:
    dseq = await client.deploy(command=["sh", "-c", "sleep 60"])
    await client.lease(dseq)
    await eventually(
        lambda: _ready(client, dseq),
    )
    closed = await client.control(
        "POST", f"/control/leases/{dseq}/close", {"reason": "lease_closed_unstable"}
    )
    assert closed["closed"][0]["dseq"] == dseq
    deployment = await client.ok("GET", f"/v1/deployments/{dseq}")
    assert deployment["deployment"]["state"] == "active"
    lease = deployment["leases"][0]
    assert (lease["state"], lease["reason"]) == ("closed", "lease_closed_unstable")
    state = await client.control("GET", "/control/state")
    assert not any(w["dseq"] == dseq for w in state["workloads"])
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_auth_errors(client: Client, devnet: AkashDevnet) -> None:
    async with client.session.get(
        devnet.url + "/v1/deployments", headers={"x-api-key": "wrong"}
    ) as response:
        assert response.status == 401
        body = await response.json()
        assert body["error"] == "UnauthorizedError" and body["message"]
    dseq = await client.deploy(command=["sh", "-c", "sleep 60"])
    await client.lease(dseq)
    base, _ = await client.gateway(dseq)
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        async with client.session.get(base + "/status", headers=headers) as response:
            assert response.status == 401
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_console_rejects_bad_requests(client: Client) -> None:
    status, error = await client.call("POST", "/v1/deployments", {"data": {"sdl": "version: 2.0"}})
    assert status == 400 and "SDL" in error["message"]
    status, error = await client.call("GET", "/v1/deployments/999")
    assert (status, error["error"]) == (404, "NotFoundError")
    dseq = await client.deploy(command=["sh", "-c", "sleep 60"])
    leased = await client.lease(dseq)
    provider = leased["leases"][0]["id"]["provider"]
    entry = {"dseq": dseq, "gseq": 1, "oseq": 1, "provider": provider}
    status, error = await client.call("POST", "/v1/leases", {"manifest": "[]", "leases": [entry]})
    assert (status, error["error"]) == (409, "ConflictError")
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_listing_pricing_and_providers(client: Client) -> None:
    dseq = await client.deploy(name="job-list")
    listing = await client.ok("GET", "/v1/deployments?skip=0&limit=100")
    mine = [d for d in listing["deployments"] if d["deployment"]["id"]["dseq"] == dseq]
    assert mine[0]["deployment"]["name"] == "job-list"
    assert listing["pagination"]["total"] == len(listing["deployments"])
    assert listing["pagination"]["hasMore"] is False
    page = await client.ok("GET", "/v1/deployments?skip=0&limit=1")
    assert len(page["deployments"]) == 1 and page["pagination"]["hasMore"] is True
    await client.ok("DELETE", f"/v1/deployments/{dseq}")

    estimate = await client.ok(
        "POST", "/v1/pricing", {"cpu": 100, "memory": 64 * 2**20, "storage": 128 * 2**20}
    )
    expected = statistics.median(PRICES) * (730.5 * 3600 / 6.174) / 1e6
    assert estimate["akash"] == pytest.approx(expected, rel=1e-3)

    provider = await client.ok("GET", f"/v1/providers/{PROVIDERS[0].address}")
    # A provider's gateway is its own host, as on the real network: not Console's.
    assert provider["hostUri"].endswith(f"/gateway/{PROVIDERS[0].address}")
    assert not provider["hostUri"].startswith(client.url)
    assert provider["isOnline"] is True
    status, _ = await client.call("GET", "/v1/providers/akash1nobody")
    assert status == 404


@pytest_asyncio.fixture(scope="module")
async def fast_devnet() -> AsyncIterator[AkashDevnet]:
    """Blocks every ~0.6 ms (10,000x), funds that can run out."""
    settings = AkashDevnetSettings(
        zero_delay=True, acceleration=10_000, finite_funds=True, stop_grace_seconds=1
    )
    net = await start_akash_devnet(settings)
    yield net
    await net.stop()


async def test_costs_accrue_until_funds_run_out(fast_devnet: AkashDevnet) -> None:
    async with aiohttp.ClientSession() as session:
        client = Client(session, fast_devnet)
        created = await client.ok(
            "POST",
            "/v1/deployments",
            {"data": {"sdl": sdl(command=["sleep", "60"]), "deposit": 0.02}},
        )
        dseq = created["dseq"]
        await client.lease(dseq)

        async def dry() -> dict[str, Any] | None:
            deployment = await client.ok("GET", f"/v1/deployments/{dseq}")
            return deployment if deployment["leases"][0]["state"] != "active" else None

        deployment = await eventually(dry)
        lease = deployment["leases"][0]
        assert (lease["state"], lease["reason"]) == (
            "insufficient_funds",
            "lease_closed_insufficient_funds",
        )
        escrow = deployment["escrow_account"]["state"]
        assert Decimal(escrow["transferred"][0]["amount"]) == Decimal(20_000)
        assert escrow["state"] == "overdrawn"
        state = await client.control("GET", "/control/state")
        assert not any(w["dseq"] == dseq for w in state["workloads"])
        await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_runtime_limit_closes_the_deployment(fast_devnet: AkashDevnet) -> None:
    async with aiohttp.ClientSession() as session:
        client = Client(session, fast_devnet)
        body = {"sdl": sdl(command=["sleep", "60"]), "runtimeLimitHours": 1, "deposit": 1000}
        dseq = (await client.ok("POST", "/v1/deployments", {"data": body}))["dseq"]
        await client.lease(dseq)

        async def closed() -> bool:
            deployment = await client.ok("GET", f"/v1/deployments/{dseq}")
            return bool(deployment["deployment"]["state"] == "closed")

        await eventually(closed)
        deployment = await client.ok("GET", f"/v1/deployments/{dseq}")
        lease = deployment["leases"][0]
        price = Decimal(lease["price"]["amount"])
        hours_in_blocks = int(lease["closed_on"]) - int(lease["created_at"])
        assert hours_in_blocks * 6.174 >= 3600
        transferred = Decimal(deployment["escrow_account"]["state"]["transferred"][0]["amount"])
        assert transferred >= price * 583


async def _ready(client: Client, dseq: str) -> bool:
    status = await client.status(dseq)
    return bool(status["services"]["app"]["ready_replicas"] == 1)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_command_line_entry_point_serves_and_stops_cleanly(tmp_path: Any) -> None:
    await assert_cli_serves_and_stops(
        "akash", "--api-key", "/v1/deployments", {"x-api-key": "k1"}, tmp_path
    )


async def test_closed_leases_leave_no_run_and_old_deployments_are_forgotten(
    tmp_path: Any,
) -> None:
    """A long-running devnet does not grow with every job it served: a closed lease's run and
    workload directory go, and only the most recent closed deployments stay queryable."""
    settings = AkashDevnetSettings(
        zero_delay=True, stop_grace_seconds=1, work_dir=tmp_path, closed_retention=1
    )
    async with serving(await start_akash_devnet(settings)) as (net, session):
        client = Client(session, net)
        dseqs = []
        for _ in range(2):
            dseq = await client.deploy(command=["sh", "-c", "echo x > out.txt; sleep 60"])
            await client.lease(dseq)
            dseqs.append(dseq)
        workdirs = [tmp_path / f"{dseq}-1-1-app" for dseq in dseqs]

        async def written() -> bool:
            return all((w / "out.txt").exists() for w in workdirs)

        await eventually(written)
        assert len(net.network.runs) == 2
        for dseq in dseqs:
            await client.ok("DELETE", f"/v1/deployments/{dseq}")
        assert net.network.runs == {}

        await net.network.clean_up()
        assert not any(w.exists() for w in workdirs)
        status, _ = await client.call("GET", f"/v1/deployments/{dseqs[0]}")
        assert status == 404, "the older closed deployment is forgotten"
        kept = await client.ok("GET", f"/v1/deployments/{dseqs[1]}")
        assert kept["deployment"]["state"] == "closed"


# --- the gateway's own server (decision 73): HTTP and RFC 6455 edge cases ---


async def _raw_request(host: str, port: int, data: bytes) -> tuple[bytes, bytes]:
    """Send bytes on a fresh connection; the answer's head and what followed it."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        return head, await reader.readexactly(length)
    finally:
        writer.close()


def _gateway_address(base: str) -> tuple[str, int, str]:
    target = urlsplit(base)
    assert target.hostname is not None and target.port is not None
    return target.hostname, target.port, target.path


async def test_gateway_keeps_connections_alive_and_refuses_bad_requests_with_json(
    client: Client,
) -> None:
    dseq, base, auth = await client.running_gateway()
    host, port, path = _gateway_address(base)
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path}/status HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
    for _ in range(2):  # two answers on one connection
        writer.write((request + "\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        size = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        assert "app" in json.loads(await reader.readexactly(size))["services"]
    writer.close()

    cases = [
        (f"GET {path}/nothing HTTP/1.1\r\n\r\n", b"404", "NotFoundError"),
        (f"POST {path}/status HTTP/1.1\r\nContent-Length: 0\r\n\r\n", b"405", "Error"),
        (f"GET {path}/status HTTP/1.1\r\n\r\n", b"401", "UnauthorizedError"),
        ("GET /gateway/akash1nobody/lease/1/1/1/status HTTP/1.1\r\n\r\n", b"404", None),
        (
            f"GET {path}/logs?tail=x HTTP/1.1\r\nAuthorization: {auth['Authorization']}\r\n\r\n",
            b"400",
            "BadRequestError",
        ),
        (  # a logs request that is not a websocket upgrade
            f"GET {path}/logs HTTP/1.1\r\nAuthorization: {auth['Authorization']}\r\n\r\n",
            b"400",
            "BadRequestError",
        ),
        (  # an upgrade with a key that is not 16 bytes in base64
            f"GET {path}/logs HTTP/1.1\r\nAuthorization: {auth['Authorization']}\r\n"
            "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: c2hvcnQ=\r\n\r\n",
            b"400",
            "BadRequestError",
        ),
        ("NOT HTTP AT ALL\r\n\r\n", b"400", "BadRequestError"),
    ]
    for raw, status, error in cases:
        head, body = await _raw_request(host, port, raw.encode())
        assert head.split(b" ")[1] == status, (raw, head)
        answer = json.loads(body)
        assert answer["message"], raw
        if error is not None:
            assert answer["error"] == error, (raw, answer)
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


def _client_frame(opcode: int, payload: bytes, masked: bool = True) -> bytes:
    mask = b"\x01\x02\x03\x04" if masked else b""
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if masked else payload
    return bytes((0x80 | opcode, (0x80 if masked else 0) | len(payload))) + mask + body


async def _open_logs(base: str, auth: dict[str, str]) -> tuple[Any, Any]:
    host, port, path = _gateway_address(base)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            f"GET {path}/logs?follow=true HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {auth['Authorization']}\r\nConnection: Upgrade\r\n"
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head  # RFC 6455's example
    return reader, writer


async def test_gateway_websocket_echoes_a_client_close_and_refuses_unmasked_frames(
    client: Client,
) -> None:
    dseq, base, auth = await client.running_gateway()
    reader, writer = await _open_logs(base, auth)
    writer.write(_client_frame(0x9, b"hi"))  # ping: answered with a pong carrying the payload
    assert await reader.readexactly(4) == b"\x8a\x02hi"
    writer.write(_client_frame(0x8, (4321).to_bytes(2, "big") + b"bye"))
    assert await reader.readexactly(4) == b"\x88\x02" + (4321).to_bytes(2, "big")
    assert await reader.read() == b"", "the server closes after echoing the close"
    writer.close()

    reader, writer = await _open_logs(base, auth)
    writer.write(_client_frame(0x1, b"x", masked=False))
    first, size = await reader.readexactly(2)
    payload = await reader.readexactly(size)
    assert first == 0x88 and int.from_bytes(payload[:2], "big") == 1002  # protocol error
    writer.close()
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_gateway_websocket_delivers_every_line_to_a_reader_that_falls_behind(
    client: Client, devnet: AkashDevnet
) -> None:
    """A reader that stops reading while a workload prints makes the server wait (the send
    buffer stays bounded) and lose nothing: every line arrives, in order, once it reads."""
    lines = 200_000
    dseq = await client.deploy(command=["sh", "-c", f"seq 1 {lines}"])
    await client.lease(dseq)
    base, auth = await client.gateway(dseq)
    host, port, path = _gateway_address(base)
    reader, writer = await asyncio.open_connection(host, port, limit=2**20)
    writer.write(
        (
            f"GET {path}/logs?follow=true&tail=-1 HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {auth['Authorization']}\r\nConnection: Upgrade\r\n"
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    transport = writer.transport
    transport.pause_reading()  # fall behind while the workload prints everything
    await asyncio.sleep(1.0)
    buffered = max(c.write_buffer_size() for c in devnet._gateway.connections())
    assert 0 < buffered < 4 * WRITE_BUFFER_LIMIT  # waiting, not holding ~2 MB of lines
    transport.resume_reading()
    received: list[int] = []
    async with asyncio.timeout(30):
        while True:
            first, second = await reader.readexactly(2)
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(await reader.readexactly(2), "big")
            payload = await reader.readexactly(size)
            if first & 0x0F == 0x8:
                break
            received.append(int(json.loads(payload)["message"]))
    assert received == list(range(1, lines + 1))
    writer.close()
    await client.ok("DELETE", f"/v1/deployments/{dseq}")


async def test_servers_queue_a_burst_of_connections_instead_of_dropping_them(
    client: Client,
) -> None:
    """Six hundred connections opened while the servers' loop is busy (the gateway's, and
    Console's on aiohttp) all complete their handshake in the kernel's accept queue: a full
    queue drops a SYN, and the client retries only a second later (decision 74)."""
    dseq, base, _ = await client.running_gateway()
    console = urlsplit(client.url)
    assert console.hostname is not None and console.port is not None
    for host, port in (_gateway_address(base)[:2], (console.hostname, console.port)):
        sockets = []
        try:
            for _ in range(600):  # the devnet shares this loop: it accepts none meanwhile
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex((host, port))
                sockets.append(sock)
            _, connected, _ = select.select([], sockets, [], 0.5)
            assert len(connected) == 600, port
        finally:
            for sock in sockets:
                sock.close()
    await client.ok("DELETE", f"/v1/deployments/{dseq}")
