"""Akash behind the provider contract: SDL deployment, bids, lease, kubeevents, close."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from contracts.job import JobSpec
from contracts.reports import NetworkPrice
from contracts.telemetry import LogRecord, cut_line, record_time_now
from contracts.timefmt import format_time, utcnow
from cortex_provider_akash.adapters import sdl
from cortex_provider_akash.adapters.console import Bid, ConsoleClient, ConsoleError
from cortex_provider_akash.adapters.provider_gateway import LeaseGateway
from cortex_provider_akash.domain.model import AkashHandle, hourly_usd
from cortex_provider_akash.settings import AkashSettings
from provider_runtime.model import Deployment, Outcome
from provider_runtime.network import (
    ExtendRefused,
    Observation,
    Placement,
    Refused,
    SaveHandle,
    Started,
    backoff,
    http_session,
)
from provider_runtime.settings import ProviderSettings
from provider_runtime.telemetry import LogCursor, Usage
from provider_runtime.websocket import HandshakeError
from runtime.background import stop_if_cancelled
from runtime.logging import get_logger

log = get_logger(__name__)
HOURS_PER_MONTH = 730.5  # Console's month
GB = 1_000_000_000
MIN_DEPOSIT_USD = 0.5
LOST_LEASE_STATES = ("closed", "insufficient_funds", "invalid")


class AkashNetwork:
    name = "akash"

    def __init__(self, settings: AkashSettings) -> None:
        self.s = settings
        self.console = _console(settings)
        self._retired: list[ConsoleClient] = []
        self._session: aiohttp.ClientSession | None = None
        self._access: dict[str, tuple[str, str, float]] = {}  # provider → host, JWT, expiry

    async def open(self) -> None:
        self._session = http_session()

    async def close(self) -> None:
        for console in [self.console, *self._retired]:
            await console.close()
        if self._session:
            await self._session.close()

    async def reconfigure(self, settings: ProviderSettings) -> None:
        assert isinstance(settings, AkashSettings)
        fresh = _console(settings)  # connects on its first call
        # Calls in flight finish on the old client; it is closed with the adapter.
        self._retired.append(self.console)
        self.console, self.s = fresh, settings
        self._access.clear()  # tokens of the old credentials

    def unsupported(self, spec: JobSpec) -> str | None:
        return sdl.unsupported(spec)

    # --- deploy: create the deployment (once), then lease the cheapest acceptable bid ---

    async def deploy(self, d: Deployment, save: SaveHandle) -> Placement:
        h = AkashHandle.of(d.handle)
        fresh = h.dseq is None and await self._create(d, h, save)
        assert h.dseq is not None
        # A deployment created just now has no lease yet: no need to ask Console for one.
        adopted = None if fresh else await self._adopt_lease(h.dseq)
        lease = adopted or await self._lease(h.dseq)
        h.provider, h.gseq, h.oseq = lease.provider, lease.gseq, lease.oseq
        d.handle = h.to_dict()
        rate = hourly_usd(lease.amount, self.s.akash_block_seconds, self.s.akash_usd_per_token)
        details = {
            "dseq": h.dseq,
            "provider": lease.provider,
            "bidPrice": f"{lease.amount:g} {lease.denom}/block",
        }
        return Placement(hourly_rate_usd=rate, details=details)

    async def _create(self, d: Deployment, h: AkashHandle, save: SaveHandle) -> bool:
        """Create the deployment once; False when an earlier attempt's was found instead."""
        spec = d.job_spec()
        document = sdl.cached_sdl(
            spec.model_dump_json(), self.s.akash_max_price, self.s.akash_denom
        )
        hours = max(1, math.ceil(spec.duration / 3600))
        attempt, found = 0, False
        while h.dseq is None:
            if h.creating:  # a create may have landed before we crashed or timed out
                h.dseq = await self.console.find_deployment(d.job_id)
                if h.dseq:
                    found = True
                    break
            h.creating = True
            d.handle = h.to_dict()
            await save(d)
            try:
                h.dseq = await self.console.create_deployment(document, d.job_id, hours)
            except ConsoleError as exc:
                if not exc.retryable or attempt >= self.s.akash_max_retries:
                    h.dseq = await self.console.find_deployment(d.job_id)
                    d.handle = h.to_dict()
                    raise Refused(f"Akash refused the deployment: {exc.message}") from None
                attempt += 1
                await asyncio.sleep(backoff(attempt))
        # Not saved here: the placement save records the dseq. Until then the stored handle
        # says `creating`, so whoever resumes after a crash finds the deployment by name
        # (a Console search) instead of creating a second one; one save less per job.
        h.creating = False
        d.handle = h.to_dict()
        log.info("akash.deployment_created", dseq=h.dseq, found=found)
        return not found

    async def _adopt_lease(self, dseq: str) -> Bid | None:
        """A lease we created before a crash (or whose answer was lost) is ours already."""
        for lease in (await self.console.deployment(dseq)).get("leases", []):
            if lease.get("state") == "active":
                return Bid.from_item({"bid": {**lease, "state": "active"}})
        return None

    async def _lease(self, dseq: str) -> Bid:
        deadline = time.monotonic() + self.s.akash_bid_window
        first_bid_at: float | None = None
        while True:
            candidates = self._acceptable(await self.console.bids(dseq))
            if candidates and first_bid_at is None:
                first_bid_at = time.monotonic()
            collecting = first_bid_at is not None and (
                time.monotonic() - first_bid_at < self.s.akash_bid_collect
                and time.monotonic() < deadline
            )
            for bid in [] if collecting else candidates:
                if await self._try_lease(dseq, bid):
                    return bid
            if time.monotonic() >= deadline:
                if candidates:
                    raise Refused(f"none of the {len(candidates)} acceptable bids could be leased")
                raise Refused(
                    f"no bids at max price {self.s.akash_max_price} {self.s.akash_denom}/block "
                    f"within {self.s.akash_bid_window:g} s"
                )
            await asyncio.sleep(self.s.akash_poll_interval)

    def _acceptable(self, bids: list[Bid]) -> list[Bid]:
        """Open bids in our denom at or under the ceiling: cheapest first, earliest on ties."""
        fitting = [
            b
            for b in bids
            if b.state == "open"
            and b.denom == self.s.akash_denom
            and b.amount <= self.s.akash_max_price
        ]
        return sorted(fitting, key=lambda b: (b.amount, b.created_at))

    async def _try_lease(self, dseq: str, bid: Bid) -> bool:
        """Lease `bid`; a 409 for a lease we already hold (an answer lost) counts as success."""
        try:
            await self.console.create_lease(bid)
            return True
        except ConsoleError as exc:
            if exc.status == 409 and await self._adopt_lease(dseq) is not None:
                return True
            log.warning("akash.lease_failed", dseq=dseq, provider=bid.provider, status=exc.status)
            return False

    # --- watch: Kubernetes events of the lease, and the lease's own state ---

    async def watch(self, d: Deployment) -> AsyncIterator[Observation]:
        h = AkashHandle.of(d.handle)
        assert h.dseq is not None and h.provider is not None
        queue: asyncio.Queue[Observation] = asyncio.Queue()
        follower = asyncio.get_running_loop().create_task(self._follow(h, queue))
        try:
            while True:
                try:
                    # A timeout scope, not wait_for: no task per event.
                    async with asyncio.timeout(self.s.akash_status_interval):
                        observation = await queue.get()
                except TimeoutError:
                    lost = await self._lease_lost(h.dseq)
                    if lost:
                        yield Outcome("failed", f"lease lost: {lost}")
                        return
                    continue
                yield observation
                if isinstance(observation, Outcome):
                    return
        finally:
            follower.cancel()

    async def _follow(self, h: AkashHandle, queue: asyncio.Queue[Observation]) -> None:
        """Feed what kubeevents mean for the job into `queue` (most mean nothing: scheduled,
        pulling, created…), reconnecting; replays are harmless (reports dedupe)."""
        assert h.dseq is not None and h.gseq is not None and h.oseq is not None
        assert h.provider is not None and self._session is not None
        gateway = LeaseGateway(self._session)
        attempt = 0
        while True:
            token = None
            try:
                host, token = await self._gateway_access(h.provider)
                async for event in gateway.kubeevents(host, token, h.dseq, h.gseq, h.oseq):
                    attempt = 0
                    observation = _observe(event)
                    if observation is not None:
                        queue.put_nowait(observation)  # unbounded: never waits
            except Exception as exc:
                stop_if_cancelled()
                if token is not None and _gateway_refused(exc):
                    self._forget_access(h.provider, token)
                log.info("akash.kubeevents_reconnect", error=str(exc))
            attempt += 1
            await asyncio.sleep(backoff(attempt, base=0.1, cap=5.0))

    async def _lease_lost(self, dseq: str) -> str | None:
        """Why the provider closed the lease (or starved it of funds), if it did."""
        for lease in (await self.console.deployment(dseq)).get("leases", []):
            if lease.get("state") in LOST_LEASE_STATES:
                return str(lease.get("reason") or lease.get("state"))
        return None

    # --- telemetry: the lease's log websocket and (devnet extension) usage ---

    async def logs(self, d: Deployment, after: LogCursor) -> AsyncIterator[LogRecord]:
        """The provider numbers nothing, so a line's seq is its position in the lease's
        output (`tail=-1` replays it all): after a reconnect the first `after.seq` are
        skipped. Kubernetes merges stdout and stderr: stream `output`."""
        h = AkashHandle.of(d.handle)
        assert h.dseq is not None and h.provider is not None
        assert h.gseq is not None and h.oseq is not None and self._session is not None
        host, token = await self._gateway_access(h.provider)
        gateway = LeaseGateway(self._session)
        position = 0
        try:
            async for line in gateway.logs(host, token, h.dseq, h.gseq, h.oseq):
                position += 1
                if position > after.seq:
                    yield LogRecord(position, record_time_now(), "output", cut_line(line))
        except Exception as exc:
            if _gateway_refused(exc):
                self._forget_access(h.provider, token)
            raise

    async def usage(self, d: Deployment) -> Usage | None:
        h = AkashHandle.of(d.handle)
        if h.dseq is None or h.provider is None or h.gseq is None or h.oseq is None:
            return None
        assert self._session is not None
        host, token = await self._gateway_access(h.provider)
        try:
            services = await LeaseGateway(self._session).usage(host, token, h.dseq, h.gseq, h.oseq)
        except Exception as exc:
            if _gateway_refused(exc):
                self._forget_access(h.provider, token)
            raise
        if not services:
            return None
        values = list(services.values())
        rx = [v["rxBytes"] for v in values if v.get("rxBytes") is not None]
        tx = [v["txBytes"] for v in values if v.get("txBytes") is not None]
        return Usage(
            cpu_millicores=sum(float(v["cpuMillicores"]) for v in values),
            memory_bytes=sum(int(v["memoryBytes"]) for v in values),
            rx_bytes=sum(rx) if rx else None,
            tx_bytes=sum(tx) if tx else None,
        )

    async def _gateway_access(self, provider: str) -> tuple[str, str]:
        """The provider's gateway URL and a JWT, reused until half its lifetime has passed:
        sampling usage every few seconds must not cost two Console calls each time."""
        cached = self._access.get(provider)
        if cached and cached[2] > time.monotonic():
            return cached[0], cached[1]
        host = await self.console.provider_host(provider)
        token = await self.console.jwt(self.s.akash_jwt_ttl)
        self._access[provider] = (host, token, time.monotonic() + self.s.akash_jwt_ttl / 2)
        return host, token

    def _forget_access(self, provider: str, token: str) -> None:
        """The gateway refused this token or could not be reached at its cached address:
        ask Console again next time (the provider moved, or its token no longer opens it).
        A newer entry (another drive asked already) is kept."""
        cached = self._access.get(provider)
        if cached is not None and cached[1] == token:
            del self._access[provider]

    # --- release, extend, price, probe ---

    async def release(self, d: Deployment) -> None:
        h = AkashHandle.of(d.handle)
        if h.dseq is None and h.creating:
            h.dseq = await self.console.find_deployment(d.job_id)
        if h.dseq:
            await self.console.close_deployment(h.dseq)

    async def extend(self, d: Deployment, total_seconds: int) -> dict[str, Any]:
        """Fund the escrow for the extra time, within the deployment's runtime limit (set from
        the job's duration at creation; Console cannot raise it, so a longer run needs a new
        deployment)."""
        h = AkashHandle.of(d.handle)
        assert d.spec is not None and h.dseq is not None
        duration = int(d.spec["duration"])
        limit_hours = max(1, math.ceil(duration / 3600))
        if total_seconds > limit_hours * 3600:
            raise ExtendRefused(
                f"the Akash deployment was created with a runtime limit of {limit_hours} h; "
                f"running {total_seconds} s needs a new deployment"
            )
        extra_hours = max(total_seconds - duration, 0) / 3600
        deposit = max(MIN_DEPOSIT_USD, round((d.hourly_rate_usd or 0) * extra_hours, 6))
        await self.console.call(
            "POST", "/v1/deposit-deployment", {"data": {"dseq": h.dseq, "deposit": deposit}}
        )
        return {"duration": total_seconds, "depositUsd": deposit, "dseq": h.dseq}

    async def price(self) -> NetworkPrice:
        """Per-unit rates from Console's monthly estimate, by varying one resource at a time."""
        base = await self.console.monthly_estimate(1000, GB, GB)
        cpu = await self.console.monthly_estimate(2000, GB, GB) - base
        memory = await self.console.monthly_estimate(1000, 2 * GB, GB) - base
        storage = await self.console.monthly_estimate(1000, GB, 2 * GB) - base
        return NetworkPrice(
            network=self.name,
            cpu_core_hour=max(cpu, 0.0) / HOURS_PER_MONTH,
            memory_gb_hour=max(memory, 0.0) / HOURS_PER_MONTH,
            storage_gb_hour=max(storage, 0.0) / HOURS_PER_MONTH,
            updated_at=format_time(utcnow()) or "",
        )

    async def probe(self) -> None:
        await self.console.call("GET", "/v1/deployments?skip=0&limit=1", retry=False)


def _console(s: AkashSettings) -> ConsoleClient:
    return ConsoleClient(
        s.akash_api_url, s.akash_api_key, s.akash_request_timeout, s.akash_max_retries
    )


def _gateway_refused(exc: Exception) -> bool:
    """A failure that a fresh gateway address or token could cure: no connection (moved or
    down), or a refused websocket handshake or call (401: the token is no longer valid)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return exc.status in (401, 403)
    return isinstance(exc, (OSError, HandshakeError, aiohttp.ClientConnectionError))


def _observe(event: dict[str, Any]) -> Observation | None:
    """A Kubernetes event of the lease → what it means for the job (None: nothing)."""
    reason, note = str(event.get("reason", "")), str(event.get("note", ""))
    if reason == "Started":
        return Started()
    if reason == "Completed":
        return Outcome("completed", None, exit_code(note, default=0))
    if reason == "Error":
        code = exit_code(note, default=1)
        return Outcome("failed", f"container exited with code {code}", code)
    if reason == "OOMKilled":
        return Outcome("failed", "out of memory: the container exceeded its memory limit", 137)
    if reason in ("Failed", "ErrImagePull", "ImagePullBackOff") and "pull" in note.lower():
        return Outcome("failed", note)
    return None


def exit_code(note: str, default: int) -> int:
    """`container exited with code 3` → 3."""
    tail = note.rsplit("code", 1)[-1].strip()
    return int(tail) if tail.lstrip("-").isdigit() else default
