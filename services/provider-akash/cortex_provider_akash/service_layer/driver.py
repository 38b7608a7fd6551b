"""Drive one job's deployment on Akash from `new` to `closed`, resuming after any crash."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import structlog

from contracts.job import JobSpec
from contracts.reports import ReportKind
from cortex_provider_akash.adapters import sdl
from cortex_provider_akash.adapters.console import Bid, ConsoleClient, ConsoleError, backoff
from cortex_provider_akash.adapters.provider_gateway import LeaseGateway
from cortex_provider_akash.adapters.reporter import Reporter
from cortex_provider_akash.adapters.store import DeploymentStore
from cortex_provider_akash.domain.model import Deployment, DeploymentState, Outcome, hourly_usd
from cortex_provider_akash.settings import AkashSettings
from runtime.logging import get_logger

log = get_logger(__name__)
S = DeploymentState


class CancelRequested(Exception):
    """The job was cancelled (or expired): release it."""


class Driver:
    def __init__(
        self,
        settings: AkashSettings,
        console: ConsoleClient,
        gateway: LeaseGateway,
        store: DeploymentStore,
        reporter: Reporter,
    ) -> None:
        self.s, self.console, self.gateway = settings, console, gateway
        self.store, self.reporter = store, reporter
        self._cancelled: dict[str, asyncio.Event] = {}

    def cancel(self, job_id: str) -> None:
        """Tell a running drive() of this job to release it now."""
        self._cancelled.setdefault(job_id, asyncio.Event()).set()

    async def drive(self, d: Deployment) -> None:
        structlog.contextvars.bind_contextvars(job_id=d.job_id)  # this task's own context
        flag = self._cancelled.setdefault(d.job_id, asyncio.Event())
        if d.cancel_requested:
            flag.set()
        try:
            await self._advance(d, flag)
        finally:
            self._cancelled.pop(d.job_id, None)

    async def _advance(self, d: Deployment, flag: asyncio.Event) -> None:
        try:
            if d.state in (S.NEW, S.CREATING, S.BIDDING, S.LEASED, S.RUNNING):
                self._check(flag)
                if d.state in (S.NEW, S.CREATING):
                    await self._create(d, flag)
                if d.state is S.BIDDING:
                    await self._lease(d, flag)
                if d.state in (S.LEASED, S.RUNNING):
                    await self._watch(d, flag)
        except CancelRequested:
            await self._adopt_lost_create(d)
            _, reason = await self.store.cancel_flag(d.job_id)
            d.outcome = Outcome("released", reason or "cancelled")
            d.state = S.FINISHING
            await self.store.save(d)
        if d.state is S.FINISHING:
            await self._finish(d)

    def _check(self, flag: asyncio.Event) -> None:
        if flag.is_set():
            raise CancelRequested

    async def _pause(self, flag: asyncio.Event, seconds: float) -> None:
        """Sleep, but wake up at once on cancel."""
        try:
            await asyncio.wait_for(flag.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise CancelRequested

    async def _create(self, d: Deployment, flag: asyncio.Event) -> None:
        assert d.spec is not None
        spec = JobSpec.model_validate(d.spec)
        refusal = sdl.unsupported(spec)
        if refusal:
            await self._decide(d, Outcome("failed", refusal))
            return
        document = sdl.build_sdl(spec, self.s.akash_max_price, self.s.akash_denom)
        hours = max(1, math.ceil(spec.duration / 3600))
        attempt = 0
        while d.dseq is None:
            self._check(flag)
            if d.state is S.CREATING:  # a create may have landed before we crashed or timed out
                d.dseq = await self.console.find_deployment(d.job_id)
                if d.dseq:
                    break
            d.state = S.CREATING
            await self.store.save(d)
            try:
                d.dseq = await self.console.create_deployment(document, d.job_id, hours)
            except ConsoleError as exc:
                if not exc.retryable or attempt >= self.s.akash_max_retries:
                    await self._adopt_lost_create(d)
                    await self._decide(
                        d, Outcome("failed", f"Akash refused the deployment: {exc.message}")
                    )
                    return
                attempt += 1
                await self._pause(flag, backoff(attempt))
        d.state = S.BIDDING
        await self.store.save(d)
        log.info("akash.deployment_created", job_id=d.job_id, dseq=d.dseq)

    async def _adopt_lost_create(self, d: Deployment) -> None:
        """A create whose answer we never saw may still have made a deployment: find it by
        name, so that ending the job closes it instead of leaving it billed."""
        if d.state is S.CREATING and d.dseq is None:
            d.dseq = await self.console.find_deployment(d.job_id)

    async def _lease(self, d: Deployment, flag: asyncio.Event) -> None:
        assert d.dseq is not None
        deadline = time.monotonic() + self.s.akash_bid_window
        first_bid_at: float | None = None
        while True:
            self._check(flag)
            candidates = self._acceptable(await self.console.bids(d.dseq))
            if candidates and first_bid_at is None:
                first_bid_at = time.monotonic()
            collecting = first_bid_at is not None and (
                time.monotonic() - first_bid_at < self.s.akash_bid_collect
                and time.monotonic() < deadline
            )
            for bid in [] if collecting else candidates:
                if await self._try_lease(d.dseq, bid):
                    await self._leased(d, bid)
                    return
            if time.monotonic() >= deadline:
                reason = (
                    f"no bids at max price {self.s.akash_max_price} {self.s.akash_denom}/block "
                    f"within {self.s.akash_bid_window:g} s"
                )
                if candidates:
                    reason = f"none of the {len(candidates)} acceptable bids could be leased"
                await self._decide(d, Outcome("failed", reason))
                return
            await self._pause(flag, self.s.akash_poll_interval)

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
            if exc.status == 409 and await self._lease_is_ours(dseq, bid):
                return True
            log.warning("akash.lease_failed", dseq=dseq, provider=bid.provider, status=exc.status)
            return False

    async def _lease_is_ours(self, dseq: str, bid: Bid) -> bool:
        leases = (await self.console.deployment(dseq)).get("leases", [])
        return any(lease.get("id", {}).get("provider") == bid.provider for lease in leases)

    async def _leased(self, d: Deployment, bid: Bid) -> None:
        d.provider, d.gseq, d.oseq = bid.provider, bid.gseq, bid.oseq
        d.hourly_rate_usd = hourly_usd(
            bid.amount, self.s.akash_block_seconds, self.s.akash_usd_per_token
        )
        d.state = S.LEASED
        await self.store.save(d)
        await self.reporter.report(
            d.job_id,
            ReportKind.SCHEDULED,
            hourly_rate_usd=d.hourly_rate_usd,
            details={
                "dseq": d.dseq,
                "provider": bid.provider,
                "bidPrice": f"{bid.amount:g} {bid.denom}/block",
            },
        )

    async def _watch(self, d: Deployment, flag: asyncio.Event) -> None:
        """Follow the lease's Kubernetes events until the workload ends or the lease is lost."""
        assert d.dseq is not None and d.provider is not None
        host = await self.console.provider_host(d.provider)
        token = await self.console.jwt(self.s.akash_jwt_ttl)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        follower = asyncio.get_running_loop().create_task(self._follow(host, token, d, queue))
        try:
            while d.state in (S.LEASED, S.RUNNING):
                event = await self._next_event(queue, flag)
                if event is None:
                    await self._check_lease(d)
                else:
                    await self._on_kube_event(d, event)
        finally:
            follower.cancel()

    async def _next_event(
        self, queue: asyncio.Queue[dict[str, Any]], flag: asyncio.Event
    ) -> dict[str, Any] | None:
        """The next kubeevent, or None after a quiet status interval; raises on cancel."""
        self._check(flag)
        getter = asyncio.ensure_future(queue.get())
        cancelled = asyncio.ensure_future(flag.wait())
        done, _ = await asyncio.wait(
            {getter, cancelled},
            timeout=self.s.akash_status_interval,
            return_when=asyncio.FIRST_COMPLETED,
        )
        cancelled.cancel()
        if getter in done:
            return getter.result()
        getter.cancel()
        self._check(flag)
        return None

    async def _follow(
        self, host: str, token: str, d: Deployment, queue: asyncio.Queue[dict[str, Any]]
    ) -> None:
        """Feed kubeevents into `queue`, reconnecting; replays are harmless (reports dedupe)."""
        assert d.dseq is not None and d.gseq is not None and d.oseq is not None
        attempt = 0
        while True:
            try:
                async for event in self.gateway.kubeevents(host, token, d.dseq, d.gseq, d.oseq):
                    attempt = 0
                    await queue.put(event)
            except Exception as exc:
                log.info("akash.kubeevents_reconnect", job_id=d.job_id, error=str(exc))
            attempt += 1
            await asyncio.sleep(backoff(attempt, base=0.1, cap=5.0))

    async def _on_kube_event(self, d: Deployment, event: dict[str, Any]) -> None:
        reason, note = str(event.get("reason", "")), str(event.get("note", ""))
        if reason == "Started" and d.state is S.LEASED:
            d.state = S.RUNNING
            await self.store.save(d)
            await self.reporter.report(d.job_id, ReportKind.STARTED)
        elif reason == "Completed":
            await self._decide(d, Outcome("completed", None, _exit_code(note, default=0)))
        elif reason == "Error":
            code = _exit_code(note, default=1)
            await self._decide(d, Outcome("failed", f"container exited with code {code}", code))
        elif reason == "OOMKilled":
            await self._decide(
                d, Outcome("failed", "out of memory: the container exceeded its memory limit", 137)
            )
        elif reason in ("Failed", "ErrImagePull", "ImagePullBackOff") and "pull" in note.lower():
            await self._decide(d, Outcome("failed", note))

    async def _check_lease(self, d: Deployment) -> None:
        """A lease the provider closed (or starved of funds) ends the job as failed."""
        assert d.dseq is not None
        info = await self.console.deployment(d.dseq)
        for lease in info.get("leases", []):
            if lease.get("state") in ("closed", "insufficient_funds", "invalid"):
                reason = lease.get("reason") or lease.get("state")
                await self._decide(d, Outcome("failed", f"lease lost: {reason}"))
                return

    async def _decide(self, d: Deployment, outcome: Outcome) -> None:
        d.outcome = outcome
        d.state = S.FINISHING
        await self.store.save(d)

    async def _finish(self, d: Deployment) -> None:
        """Close on the network first, then report: the job never ends while we still pay."""
        assert d.outcome is not None
        if d.dseq:
            await self.console.close_deployment(d.dseq)
        kind = {"completed": ReportKind.COMPLETED, "failed": ReportKind.FAILED}.get(
            d.outcome.kind, ReportKind.RELEASED
        )
        await self.reporter.report(
            d.job_id,
            kind,
            exit_code=d.outcome.exit_code,
            reason=d.outcome.reason,
            hourly_rate_usd=d.hourly_rate_usd,
        )
        d.state = S.CLOSED
        await self.store.save(d)
        log.info("akash.closed", job_id=d.job_id, outcome=d.outcome.kind)


def _exit_code(note: str, default: int) -> int:
    """`container exited with code 3` → 3."""
    tail = note.rsplit("code", 1)[-1].strip()
    return int(tail) if tail.lstrip("-").isdigit() else default
