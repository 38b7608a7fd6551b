"""Drive one job's deployment from `new` to `closed` on any network, resuming after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

from contracts.reports import ReportKind
from provider_runtime.model import Deployment, DeploymentState, Outcome
from provider_runtime.network import Network, Refused, Started
from provider_runtime.reporter import Reporter
from provider_runtime.store import DeploymentStore
from provider_runtime.telemetry_pump import TelemetryPump
from runtime.logging import get_logger

log = get_logger(__name__)
S = DeploymentState
_REPORTS = {"completed": ReportKind.COMPLETED, "failed": ReportKind.FAILED}


class CancelRequested(Exception):
    """The job was cancelled (or expired): release it."""


class Driver:
    """The lifecycle every network shares; what is network-specific is behind `Network`.

    Each step is saved before the next begins, so whoever claims the deployment after a crash
    resumes from the last saved step, and the job is reported ended only once the network
    has released everything (nobody keeps paying for a job Cortex thinks is over).
    """

    def __init__(
        self,
        network: Network,
        store: DeploymentStore,
        reporter: Reporter,
        telemetry: TelemetryPump | None = None,
    ) -> None:
        self.network, self.store, self.reporter = network, store, reporter
        self.telemetry = telemetry  # None: the adapter cannot read logs and usage
        self._cancelled: dict[str, asyncio.Event] = {}
        self._steps: dict[str, asyncio.Task[None]] = {}  # each drive's step in progress

    def cancel(self, job_id: str) -> None:
        """Tell a running drive() of this job to release it now."""
        self._cancelled.setdefault(job_id, asyncio.Event()).set()
        step = self._steps.get(job_id)
        if step is not None:
            step.cancel()

    async def drive(self, d: Deployment) -> None:
        structlog.contextvars.bind_contextvars(job_id=d.job_id)  # this task's own context
        flag = self._cancelled.setdefault(d.job_id, asyncio.Event())
        if d.cancel_requested:
            flag.set()
        try:
            await self._advance(d, flag)
        finally:
            self._cancelled.pop(d.job_id, None)
            if self.telemetry:  # lost the claim, or shutting down: whoever drives it follows
                await self.telemetry.finish(d.job_id, drain=False)

    async def _advance(self, d: Deployment, flag: asyncio.Event) -> None:
        try:
            if d.state in (S.NEW, S.DEPLOYING):
                await self._until_cancelled(d.job_id, self._deploy(d), flag)
            if d.state in (S.PLACED, S.RUNNING):
                await self._until_cancelled(d.job_id, self._watch(d), flag)
        except CancelRequested:
            _, reason = await self.store.cancel_flag(d.job_id)
            await self._decide(d, Outcome("released", reason or "cancelled"))
        if d.state is S.FINISHING:
            await self._finish(d)

    async def _until_cancelled(
        self, job_id: str, step: Coroutine[Any, Any, None], flag: asyncio.Event
    ) -> None:
        """Run `step`; a cancel interrupts it at once (adapters save before billed calls)."""
        if flag.is_set():
            step.close()
            raise CancelRequested
        task = self._steps[job_id] = asyncio.ensure_future(step)
        try:
            await task  # if this drive is stopped (shutdown, handover), so is the step
        except asyncio.CancelledError:
            drive = asyncio.current_task()
            stopped = drive is not None and drive.cancelling() > 0
            if task.cancelled() and flag.is_set() and not stopped:
                raise CancelRequested from None
            raise  # stopped: whoever drives it next resumes from the saved step
        finally:
            self._steps.pop(job_id, None)

    async def _deploy(self, d: Deployment) -> None:
        refusal = self.network.unsupported(d.job_spec())
        if refusal:
            await self._decide(d, Outcome("failed", refusal))
            return
        if d.state is S.NEW:
            # Not saved on its own: the adapter saves (state included) before anything
            # billed, and NEW and DEPLOYING resume the same way.
            d.state = S.DEPLOYING
        try:
            placement = await self.network.deploy(d, self.store.save)
        except Refused as exc:
            await self._decide(d, Outcome("failed", exc.reason))
            return
        d.hourly_rate_usd = placement.hourly_rate_usd
        d.state = S.PLACED
        await self.store.save(d)
        await self.reporter.report(
            d.job_id,
            ReportKind.SCHEDULED,
            at=placement.at,
            hourly_rate_usd=d.hourly_rate_usd,
            details=placement.details,
        )
        log.info("deployment.placed", network=self.network.name, rate=d.hourly_rate_usd)

    async def _watch(self, d: Deployment) -> None:
        if d.state is S.RUNNING and self.telemetry:
            # Resumed after a restart or handover: lines may be out already; go on after them.
            self.telemetry.start(d, resume=True)
        async for observation in self.network.watch(d):
            if isinstance(observation, Started):
                if d.state is S.PLACED:
                    # Saved before any line goes out: a deployment found `placed` after a
                    # crash has published nothing, so its follower starts from the first line.
                    d.state = S.RUNNING
                    await self.store.save(d)
                    await self.reporter.report(d.job_id, ReportKind.STARTED, at=observation.at)
                if self.telemetry:
                    self.telemetry.start(d, resume=False)
            else:
                await self._decide(d, observation)
                return
        # The claim loop drives it again from the saved step: the network is asked afresh.
        log.warning("deployment.watch_ended_early", network=self.network.name)

    async def _decide(self, d: Deployment, outcome: Outcome) -> None:
        d.outcome = outcome
        d.state = S.FINISHING
        await self.store.save(d)

    async def _finish(self, d: Deployment) -> None:
        """Release on the network first, then report: the job never ends while we still pay."""
        assert d.outcome is not None
        details: dict[str, Any] = {}
        if self.telemetry:
            # The last lines before the release (which ends the log stream on the network),
            # and before the report, so a follower has every line when it sees the end.
            last = await self.telemetry.finish(d.job_id, drain=d.outcome.kind != "released")
            if last:  # the scheduler answers log reads only once it stored this far
                details["logSeq"] = last
        await self.network.release(d)
        await self.reporter.report(
            d.job_id,
            _REPORTS.get(d.outcome.kind, ReportKind.RELEASED),
            at=d.outcome.at,
            details=details,
            exit_code=d.outcome.exit_code,
            reason=d.outcome.reason,
            hourly_rate_usd=d.hourly_rate_usd,
        )
        d.state = S.CLOSED
        await self.store.save(d)
        log.info("deployment.closed", network=self.network.name, outcome=d.outcome.kind)
