"""Golem behind the provider contract: allocation, demand, agreement, activity, exe-script."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from contracts.job import JobSpec
from contracts.reports import NetworkPrice
from contracts.telemetry import LogRecord, cut_line, record_time
from contracts.timefmt import format_time, parse_time, utcnow
from cortex_provider_golem.adapters.market import DemandInbox, Offer
from cortex_provider_golem.adapters.payments import PaymentDesk
from cortex_provider_golem.adapters.yagna import YagnaClient, YagnaError
from cortex_provider_golem.domain import demand, script
from cortex_provider_golem.domain.images import task_package
from cortex_provider_golem.domain.model import GolemHandle
from cortex_provider_golem.domain.pricing import CPU_SEC, DURATION_SEC, LinearPrice, terms
from cortex_provider_golem.settings import GolemSettings
from provider_runtime.model import Deployment, Outcome
from provider_runtime.network import (
    ExtendRefused,
    Observation,
    Placement,
    Refused,
    SaveHandle,
    Started,
    backoff,
)
from provider_runtime.settings import ProviderSettings
from provider_runtime.telemetry import LogCursor, Usage
from runtime.logging import get_logger

log = get_logger(__name__)
PROBE_IMAGE = "alpine:latest"  # the price probe's demand needs some task package
LOST_STATES = ("Terminated", "Unresponsive")
_END = object()  # the batch's event stream ended
Persist = Callable[[], Awaitable[None]]


class GolemNetwork:
    name = "golem"

    def __init__(self, settings: GolemSettings) -> None:
        self.s = settings
        self.yagna = _yagna(settings)
        self.payments = PaymentDesk(self.yagna, settings.golem_poll_timeout)
        self._retired: list[YagnaClient] = []
        self._opened = False
        self._cpu_seen: dict[str, tuple[float, float]] = {}  # job → (monotonic, cpu_sec)

    async def open(self) -> None:
        await self.yagna.open()
        self.payments.start()
        self._opened = True
        await self._withdraw_stale_probes()

    async def _withdraw_stale_probes(self) -> None:
        """A price probe cut short by a crash leaves its demand open: withdraw ours."""
        try:
            stale = await self.yagna.find_demands(
                demand.JOB_PROPERTY, lambda v: v.startswith(self._probe_prefix)
            )
            for demand_id in stale:
                await self.yagna.unsubscribe(demand_id)
        except YagnaError as exc:  # the network may be down at start; the next start retries
            log.warning("golem.stale_probes_left", error=exc.message)

    @property
    def _probe_prefix(self) -> str:
        """Price probes carry this instance's id, so replicas never withdraw each other's."""
        return f"price-probe-{self.s.instance_id}-"

    async def close(self) -> None:
        await self.payments.stop()
        for client in [self.yagna, *self._retired]:
            await client.close()

    async def reconfigure(self, settings: ProviderSettings) -> None:
        assert isinstance(settings, GolemSettings)
        fresh = _yagna(settings)
        if self._opened:
            await fresh.open()
        # Calls in flight finish on the old client; it is closed with the adapter.
        self._retired.append(self.yagna)
        self.yagna, self.s = fresh, settings
        self.payments.use(fresh)

    def unsupported(self, spec: JobSpec) -> str | None:
        if any(p.expose for p in spec.ports):
            return "Golem exposes ports only through its VPN net API, which Cortex does not use"
        if spec.gpu:
            return "Cortex runs Golem jobs on the vm runtime, which has no GPU"
        return None

    # --- deploy: allocation → demand → offers → agreement → activity → exe-script ---

    async def deploy(self, d: Deployment, save: SaveHandle) -> Placement:
        spec = d.job_spec()
        h = GolemHandle.of(d.handle)

        async def persist() -> None:
            d.handle = h.to_dict()
            await save(d)

        await self._allocate(spec, h, persist)
        assert h.allocation_id is not None
        if h.agreement_id is not None:  # resumed: approved by now, or ended and forgotten
            await self._approved(h, persist)
        if h.agreement_id is None:
            await self._agree(d.job_id, spec, h, persist)
        assert h.agreement_id is not None
        await self.payments.track(h.agreement_id, h.allocation_id)
        if h.demand_id:  # the agreement is signed: no more offers wanted
            await self.yagna.unsubscribe(h.demand_id)
            h.demand_id = None
            await persist()
        await self._run(spec, h, persist)
        price = LinearPrice.of_terms(h.price["vector"], h.price["coeffs"]) if h.price else None
        hourly_glm = price.hourly_glm(spec.cpu / 1000) if price else 0.0
        details = {
            "agreementId": h.agreement_id,
            "activityId": h.activity_id,
            "provider": h.provider_name,
            "providerId": h.provider_id,
            "price": f"{hourly_glm:.6g} GLM/h",
        }
        return Placement(hourly_rate_usd=hourly_glm * self.s.golem_usd_per_glm, details=details)

    def _window(self, spec: JobSpec) -> float:
        """Seconds the agreement is valid: the job's duration plus the headroom for `extend`."""
        return spec.duration + self.s.golem_validity_headroom

    async def _allocate(self, spec: JobSpec, h: GolemHandle, persist: Persist) -> None:
        """Reserve the job's budget: the price cap for its cores over the agreement's window."""
        if h.allocation_id:
            return
        if h.allocation_marker:  # an earlier create may have landed without our seeing it
            h.allocation_id = await self.yagna.find_allocation(h.allocation_marker)
            if h.allocation_id:
                await persist()
                return
        window = self._window(spec)
        # The allocation's own timeout (it lapses after the job's window) marks it as ours.
        expires = utcnow() + timedelta(seconds=window, microseconds=secrets.randbelow(10**6))
        h.allocation_marker = expires.isoformat(timespec="microseconds").replace("+00:00", "Z")
        await persist()
        cores = demand.Requirements.of(spec).threads
        budget = self.s.golem_max_glm_per_core_hour * cores * window / 3600
        budget += self.s.golem_max_start_glm
        attempt = 0
        while h.allocation_id is None:
            try:
                h.allocation_id = await self.yagna.create_allocation(
                    f"{budget:.6f}", self.s.golem_payment_platform, h.allocation_marker
                )
            except YagnaError as exc:
                if not exc.retryable:
                    raise Refused(f"Golem refused the allocation: {exc.message}") from None
                if attempt >= self.s.golem_max_retries:
                    raise
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                h.allocation_id = await self.yagna.find_allocation(h.allocation_marker)
        await persist()
        log.info("golem.allocated", allocation=h.allocation_id, budget_glm=round(budget, 6))

    async def _subscribe(
        self, job_id: str, spec: JobSpec, h: GolemHandle, persist: Persist
    ) -> dict[str, Any]:
        """Publish the job's demand (a fresh one: offers already handed out are not replayed)."""
        assert h.allocation_id is not None
        if h.demand_pending and not h.demand_id:
            h.demand_id = await self.yagna.find_demand(demand.JOB_PROPERTY, job_id)
        if h.demand_id:  # left by an interrupted deploy: its offers were consumed
            await self.yagna.unsubscribe(h.demand_id)
            h.demand_id = None
        valid_to = utcnow() + timedelta(seconds=self._window(spec))
        h.valid_to = format_time(valid_to)
        body = self._demand_body(spec, job_id, int(valid_to.timestamp() * 1000))
        props, text = demand.decorate(
            body["properties"], body["constraints"], await self.yagna.decorations(h.allocation_id)
        )
        body = {"properties": props, "constraints": text}
        h.demand_pending = True
        await persist()
        attempt = 0
        while h.demand_id is None:
            try:
                h.demand_id = await self.yagna.subscribe(props, text)
            except YagnaError as exc:
                if not exc.retryable:
                    raise Refused(f"Golem refused the demand: {exc.message}") from None
                if attempt >= self.s.golem_max_retries:
                    raise
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                h.demand_id = await self.yagna.find_demand(demand.JOB_PROPERTY, job_id)
        h.demand_pending = False
        await persist()
        return body

    def _demand_body(self, spec: JobSpec, job_id: str | None, expiration_ms: int) -> dict[str, Any]:
        package = task_package(spec.image, self.s.golem_images, self.s.golem_registry_url)
        dterms = demand.DemandTerms(
            subnet=self.s.golem_subnet,
            expiration_ms=expiration_ms,
            debit_note_interval=self.s.golem_debit_note_interval,
            debit_note_accept_timeout=self.s.golem_debit_note_accept_timeout,
            payment_timeout=self.s.golem_payment_timeout,
        )
        return {
            "properties": demand.properties(package, dterms, job_id),
            "constraints": demand.constraints(demand.Requirements.of(spec)),
        }

    def _acceptable(self, spec: JobSpec) -> Callable[[Offer], bool]:
        cores = demand.Requirements.of(spec).threads

        def acceptable(offer: Offer) -> bool:
            return (
                offer.price.hourly_glm(cores) <= self.s.golem_max_glm_per_core_hour * cores
                and offer.price.start <= self.s.golem_max_start_glm
            )

        return acceptable

    async def _agree(self, job_id: str, spec: JobSpec, h: GolemHandle, persist: Persist) -> None:
        """Sign an agreement with the cheapest acceptable offer that takes our counter-proposal."""
        if h.proposal_id:  # interrupted right around creating the agreement
            await self._retry_agreement(h, persist)
            if h.agreement_id and await self._approved(h, persist) is None:
                return
        body = await self._subscribe(job_id, spec, h, persist)
        assert h.demand_id is not None
        inbox = DemandInbox(self.yagna, h.demand_id, self.s.golem_poll_timeout)
        offers = await inbox.collect(
            self.s.golem_offer_timeout, self.s.golem_offer_collect, self._acceptable(spec)
        )
        if not offers:
            req = demand.Requirements.of(spec)
            seen = f"{len(inbox.offers)} offer(s) above the price cap" if inbox.offers else "none"
            raise Refused(
                f"no offers matching {req.threads} thread(s), {req.memory_gib:g} GiB memory, "
                f"{req.storage_gib:g} GiB storage at up to {self.s.golem_max_glm_per_core_hour:g} "
                f"GLM/core-hour within {self.s.golem_offer_timeout:g} s ({seen})"
            )
        seconds, cores = float(spec.duration), spec.cpu / 1000
        ranked = sorted(offers, key=lambda o: o.price.estimate_glm(seconds, cores))
        # Providers turn counters down while they are full: keep asking, cheapest first, until
        # the offer window has passed (a busy market delays a job; it does not fail it).
        deadline = time.monotonic() + self.s.golem_offer_timeout
        while True:
            reasons: list[str] = []
            for offer in ranked:
                reason = await self._try_offer(inbox, offer, body, h, persist)
                if reason is None:
                    return
                reasons.append(f"{offer.name}: {reason}")
            if time.monotonic() >= deadline:
                raise Refused(
                    f"none of the {len(offers)} acceptable offers was agreed within "
                    f"{self.s.golem_offer_timeout:g} s: {'; '.join(reasons)}"
                )
            await asyncio.sleep(max(self.s.golem_offer_collect, 0.2))

    async def _try_offer(
        self,
        inbox: DemandInbox,
        offer: Offer,
        body: dict[str, Any],
        h: GolemHandle,
        persist: Persist,
    ) -> str | None:
        """Counter, then agree on the Draft and wait for approval; why not, or None if agreed."""
        assert h.demand_id is not None and h.valid_to is not None
        counter_id = await self.yagna.counter(h.demand_id, offer.proposal_id, body)
        draft = await inbox.answer(counter_id, self.s.golem_negotiation_timeout)
        if isinstance(draft, str):
            return draft
        h.proposal_id = str(draft["proposalId"])
        h.provider_id, h.provider_name = offer.issuer_id, offer.name
        h.price = terms(draft.get("properties") or offer.properties)
        await persist()  # before the create: a lost answer is recognised on the next try
        try:
            h.agreement_id = await self._create_agreement(h.proposal_id, h.valid_to)
        except YagnaError as exc:
            h.proposal_id = None
            await persist()
            return f"agreement not created: {exc.message}"
        h.proposal_id = None
        await persist()
        return await self._approved(h, persist)

    async def _create_agreement(self, proposal_id: str, valid_to: str) -> str:
        """Create, retrying only errors that mean nothing was created (5xx, 429).

        A lost answer (no status) leaves the outcome unknown: the agreement, if created, is
        never confirmed, so the provider never approves it and nothing is billed; it lapses at
        `validTo` (yagna cannot look agreements up by proposal). The next offer is tried.
        """
        attempt = 0
        while True:
            try:
                return await self.yagna.create_agreement(proposal_id, valid_to)
            except YagnaError as exc:
                if exc.status == 0 or not exc.retryable or attempt >= self.s.golem_max_retries:
                    raise
                await asyncio.sleep(backoff(attempt))
                attempt += 1

    async def _retry_agreement(self, h: GolemHandle, persist: Persist) -> None:
        """Resume a create whose answer we never saw: 201 now, or the proposal is used (lost)."""
        assert h.proposal_id is not None
        try:
            h.agreement_id = await self._create_agreement(h.proposal_id, h.valid_to or "")
        except YagnaError as exc:
            log.warning("golem.agreement_unknown", proposal=h.proposal_id, error=exc.message)
        h.proposal_id = None
        await persist()

    async def _approved(self, h: GolemHandle, persist: Persist) -> str | None:
        """Confirm the agreement and wait for the provider; why it failed, or None if approved."""
        assert h.agreement_id is not None
        if h.approved_at is not None:
            return None
        if not h.agreement_confirmed:
            await self.yagna.confirm(h.agreement_id)
            h.agreement_confirmed = True
            await persist()
        deadline = time.monotonic() + self.s.golem_negotiation_timeout
        reason = f"not approved within {self.s.golem_negotiation_timeout:g} s"
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                if await self.yagna.wait_approval(
                    h.agreement_id, min(remaining, self.s.golem_poll_timeout)
                ):
                    h.approved_at = time.time()
                    await persist()
                    log.info("golem.agreed", agreement=h.agreement_id, provider=h.provider_name)
                    return None
            except YagnaError as exc:
                if exc.status not in (404, 410):
                    raise
                reason = exc.message
                break
        await self.yagna.end_agreement(h.agreement_id, "Not approved in time")
        h.agreement_id, h.agreement_confirmed = None, False
        await persist()
        return reason

    async def _run(self, spec: JobSpec, h: GolemHandle, persist: Persist) -> None:
        """Create the activity and send the exe-script (deploy, start, run)."""
        assert h.agreement_id is not None
        if h.exec_pending and not h.batch_id and h.activity_id:
            # The script may or may not run: start over on a new activity rather than twice.
            await self.yagna.destroy_activity(h.activity_id)
            h.activity_id, h.exec_pending = None, False
            await persist()
        if h.activity_id is None:
            h.activity_pending = True
            await persist()
            agreement_id = h.agreement_id
            h.activity_id = await self._retrying(lambda: self.yagna.create_activity(agreement_id))
            h.activity_pending = False
            await persist()
        if h.batch_id is None:
            h.exec_pending = True
            await persist()
            activity_id, commands = h.activity_id, script.exe_script(spec)
            h.batch_id = await self._retrying(lambda: self.yagna.exec(activity_id, commands))
            h.exec_pending = False
            await persist()

    async def _retrying(self, create: Callable[[], Awaitable[str]]) -> str:
        """A create retried only on errors that mean it did not happen (5xx, 429).

        An ended agreement (409/410) means the provider broke it before the workload started.
        """
        attempt = 0
        while True:
            try:
                return await create()
            except YagnaError as exc:
                if exc.status in (409, 410):
                    raise Refused(f"agreement lost: {exc.message}") from None
                if exc.status == 0 or not exc.retryable or attempt >= self.s.golem_max_retries:
                    raise
                await asyncio.sleep(backoff(attempt))
                attempt += 1

    # --- watch: the batch's runtime events, and the activity's state between them ---

    async def watch(self, d: Deployment) -> AsyncIterator[Observation]:
        h = GolemHandle.of(d.handle)
        assert h.activity_id is not None and h.batch_id is not None
        if h.agreement_id and h.allocation_id:
            await self.payments.track(h.agreement_id, h.allocation_id)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        follower = asyncio.get_running_loop().create_task(self._follow(h, queue))
        started = False
        try:
            while True:
                try:
                    # A timeout scope, not wait_for: on Python 3.11 wait_for can lose a
                    # cancellation that meets a ready item (decision 71).
                    async with asyncio.timeout(self.s.golem_status_interval):
                        event = await queue.get()
                except TimeoutError:
                    event = _END  # quiet for a while: look at the activity itself
                if event is _END:
                    outcome = await self._lost(h) or await self._finished(h)
                    if outcome is not None:
                        yield outcome
                        return
                    continue
                observation = script.observe(event)
                if isinstance(observation, Started) and not started:
                    started = True
                    yield observation
                elif isinstance(observation, Outcome):
                    if observation.kind == "failed":  # was it the provider ending the agreement?
                        observation = await self._lost(h) or observation
                    yield observation
                    return
        finally:
            follower.cancel()

    # --- telemetry: the run's output from the exec batch stream, CPU from usage counters ---

    async def logs(self, d: Deployment, after: LogCursor) -> AsyncIterator[LogRecord]:
        """The batch stream replays from the start on every connection, so a line's seq is
        its position in the run's output and the first `after.seq` lines are skipped."""
        h = GolemHandle.of(d.handle)
        assert h.activity_id is not None and h.batch_id is not None
        position = 0
        async for event in self.yagna.batch_stream(h.activity_id, h.batch_id):
            kind = event.get("kind") or {}
            for stream in ("stdout", "stderr"):
                text = kind.get(stream)
                if not isinstance(text, str):
                    continue
                for line in text.splitlines() or [""]:
                    position += 1
                    if position > after.seq:
                        at = _event_time(event.get("timestamp"))
                        yield LogRecord(position, at, stream, cut_line(line))

    async def usage(self, d: Deployment) -> Usage | None:
        """CPU from `golem.usage.cpu_sec` differences; Golem reports no memory or network
        use of an activity, so memory is 0 and rx/tx unknown (docs/providers.md)."""
        h = GolemHandle.of(d.handle)
        vector = list((h.price or {}).get("vector") or [])
        if h.activity_id is None or CPU_SEC not in vector:
            return None
        counters = await self.yagna.activity_usage(h.activity_id)
        cpu_sec, now = counters[vector.index(CPU_SEC)], time.monotonic()
        previous = self._cpu_seen.get(d.job_id)
        self._cpu_seen[d.job_id] = (now, cpu_sec)
        if previous is None:  # first sample: average since the activity began
            elapsed = counters[vector.index(DURATION_SEC)] if DURATION_SEC in vector else 0.0
            used = cpu_sec
        else:
            elapsed, used = now - previous[0], cpu_sec - previous[1]
        millicores = 1000 * used / elapsed if elapsed > 0 else 0.0
        return Usage(cpu_millicores=max(millicores, 0.0), memory_bytes=0)

    async def _follow(self, h: GolemHandle, queue: asyncio.Queue[Any]) -> None:
        """Feed the batch's events into `queue`, reconnecting (a stream replays from the start)."""
        assert h.activity_id is not None and h.batch_id is not None
        attempt = 0
        while True:
            try:
                async for event in self.yagna.batch_stream(h.activity_id, h.batch_id):
                    attempt = 0
                    await queue.put(event)
            except YagnaError as exc:
                log.info("golem.stream_reconnect", error=exc.message)
            await queue.put(_END)
            attempt += 1
            await asyncio.sleep(backoff(attempt, base=0.1, cap=5.0))

    async def _lost(self, h: GolemHandle) -> Outcome | None:
        """The activity ended under us (the provider terminated the agreement), if it did."""
        assert h.activity_id is not None
        try:
            state = await self.yagna.activity_state(h.activity_id)
        except YagnaError as exc:
            if exc.status in (404, 410):
                return Outcome("failed", f"agreement lost: the activity is gone ({exc.message})")
            raise
        current = (state.get("state") or [None])[0]
        if current in LOST_STATES:
            why = state.get("reason") or state.get("errorMessage") or f"activity {current}"
            return Outcome("failed", f"agreement lost: {why}")
        return None

    async def _finished(self, h: GolemHandle) -> Outcome | None:
        """The batch's outcome from its JSON results, if it ended while we were not streaming."""
        assert h.activity_id is not None and h.batch_id is not None
        results = await self.yagna.batch_results(h.activity_id, h.batch_id, 0)
        return script.observe_results(results)

    # --- release, extend, price, probe ---

    async def release(self, d: Deployment) -> None:
        """Destroy the activity, end the agreement (and pay its invoice), withdraw, free."""
        h = GolemHandle.of(d.handle)
        self._cpu_seen.pop(d.job_id, None)
        if h.activity_id:
            await self.yagna.destroy_activity(h.activity_id)
        if h.agreement_id:
            if h.allocation_id:
                await self.payments.track(h.agreement_id, h.allocation_id)
            await self.yagna.end_agreement(h.agreement_id, "Released by Cortex")
            if h.approved_at is not None and h.allocation_id:
                wait = self.s.golem_invoice_wait
                if not await self.payments.invoice_accepted(h.agreement_id, wait):
                    log.warning("golem.no_invoice", agreement=h.agreement_id, waited=wait)
            self.payments.forget(h.agreement_id)
        demand_id = h.demand_id
        if demand_id is None and h.demand_pending:
            demand_id = await self.yagna.find_demand(demand.JOB_PROPERTY, d.job_id)
        if demand_id:
            await self.yagna.unsubscribe(demand_id)
        allocation_id = h.allocation_id
        if allocation_id is None and h.allocation_marker:
            allocation_id = await self.yagna.find_allocation(h.allocation_marker)
        if allocation_id:
            await self.yagna.release_allocation(allocation_id)

    async def extend(self, d: Deployment, total_seconds: int) -> dict[str, Any]:
        """Within the agreement's validity (the job's duration plus `golem_validity_headroom`,
        budgeted in the allocation) more time needs nothing from Golem; beyond it, a new
        agreement would be needed, which would restart the workload: refused."""
        h = GolemHandle.of(d.handle)
        if h.valid_to is None or h.approved_at is None:
            raise ExtendRefused("the Golem agreement is not signed yet")
        valid_to = parse_time(h.valid_to)
        needed = h.approved_at + total_seconds
        if needed > valid_to.timestamp():
            raise ExtendRefused(
                f"the Golem agreement is valid until {h.valid_to}; running {total_seconds} s "
                "in all would need a new agreement, which restarts the workload"
            )
        return {"duration": total_seconds, "agreementId": h.agreement_id, "validTo": h.valid_to}

    async def price(self) -> NetworkPrice:
        """The cheapest current offer to a 1-thread probe demand, per core-hour in USD.

        Golem prices CPU time and wall time, not memory or storage: the wall-time price is
        counted per core-hour too, and memory and storage cost 0.
        """
        spec = JobSpec(
            provider=self.name, image=PROBE_IMAGE, cpu=1000, memory="64Mi", storage="128Mi",
            duration=3600,
        )  # fmt: skip
        expiration = utcnow() + timedelta(seconds=self._window(spec))
        probe_id = f"{self._probe_prefix}{secrets.token_hex(8)}"
        body = self._demand_body(spec, probe_id, int(expiration.timestamp() * 1000))
        try:
            demand_id = await self.yagna.subscribe(body["properties"], body["constraints"])
        except YagnaError as exc:
            if exc.status != 0:
                raise
            found = await self.yagna.find_demand(demand.JOB_PROPERTY, probe_id)
            if found is None:
                raise
            demand_id = found
        try:
            inbox = DemandInbox(self.yagna, demand_id, self.s.golem_poll_timeout)
            offers = await inbox.collect(
                self.s.golem_offer_timeout, self.s.golem_offer_collect, lambda _: True
            )
        finally:
            await self.yagna.unsubscribe(demand_id)
        if not offers:
            raise YagnaError(0, f"no offers to price within {self.s.golem_offer_timeout:g} s")
        cheapest = min(o.price.hourly_glm(1) for o in offers)
        return NetworkPrice(
            network=self.name,
            cpu_core_hour=cheapest * self.s.golem_usd_per_glm,
            memory_gb_hour=0.0,
            storage_gb_hour=0.0,
            updated_at=format_time(utcnow()) or "",
        )

    async def probe(self) -> None:
        await self.yagna.allocations()


def _yagna(s: GolemSettings) -> YagnaClient:
    return YagnaClient(
        s.golem_api_url, s.golem_api_key, s.golem_request_timeout, s.golem_max_retries
    )


def _event_time(value: Any) -> str:
    """A runtime event's timestamp as a log record time (now when it has none)."""
    try:
        return record_time(parse_time(value)) if isinstance(value, str) else record_time(utcnow())
    except ValueError:
        return record_time(utcnow())
