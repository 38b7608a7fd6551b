"""Render behind the provider contract: a base service per job (image + env), suspended once
live, and one one-off job on it that runs the job's command on the smallest fitting plan."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from contracts.job import JobSpec
from contracts.reports import InstanceType, NetworkPrice
from contracts.telemetry import LogRecord, cut_line, record_time
from contracts.timefmt import format_time, parse_time, utcnow
from cortex_provider_render.adapters.api import RenderClient, RenderError
from cortex_provider_render.domain.model import (
    RenderHandle,
    exit_code_in,
    instance_types,
    linear_rates,
    log_stream,
    service_name,
    smallest_plan,
    start_command,
    unsupported,
)
from cortex_provider_render.settings import RenderSettings
from provider_runtime.model import Deployment, Outcome
from provider_runtime.network import Observation, Placement, Refused, SaveHandle, Started, backoff
from provider_runtime.settings import ProviderSettings
from provider_runtime.telemetry import LogCursor, Usage
from runtime.logging import get_logger

log = get_logger(__name__)
FAILED_DEPLOYS = frozenset({"build_failed", "update_failed", "pre_deploy_failed", "canceled"})
ENDED_JOBS = frozenset({"succeeded", "failed", "canceled"})
EPOCH = "2000-01-01T00:00:00Z"  # replay a job's log from its first line


class RenderNetwork:
    name = "render"

    def __init__(self, settings: RenderSettings) -> None:
        self.s = settings
        self.client = _client(settings)
        self.types: list[InstanceType] = _types(settings)
        self._retired: list[RenderClient] = []
        self._opened = False
        self._sampled: dict[str, str] = {}  # Render job id → when usage was last read

    async def open(self) -> None:
        await self.client.open()
        self._opened = True

    async def close(self) -> None:
        for client in [self.client, *self._retired]:
            await client.close()

    async def reconfigure(self, settings: ProviderSettings) -> None:
        assert isinstance(settings, RenderSettings)
        fresh = _client(settings)
        if self._opened:
            await fresh.open()
        # Calls in flight finish on the old client; it is closed with the adapter.
        self._retired.append(self.client)
        self.client, self.s, self.types = fresh, settings, _types(settings)

    def unsupported(self, spec: JobSpec) -> str | None:
        return unsupported(spec, self.types)

    # --- deploy: base service (once) → live → suspended → one-off job → an instance runs it ---

    async def deploy(self, d: Deployment, save: SaveHandle) -> Placement:
        spec = d.job_spec()
        plan = smallest_plan(spec, self.types)
        assert plan is not None  # unsupported() refused the job otherwise
        h = RenderHandle.of(d.handle)
        h.plan = plan.id
        if h.service_id is None:
            await self._create_service(d, h, spec, save)
        assert h.service_id is not None
        if not h.suspended:
            await self._wait_live(h)
            await self.client.suspend(h.service_id)  # the worker itself need not run
            h.suspended = True
            d.handle = h.to_dict()
            await save(d)
        if h.job_id is None:
            await self._start_job(d, h, start_command(spec), plan.id, save)
        job = await self._wait_for_instance(h)
        details = {"serviceId": h.service_id, "renderJobId": h.job_id, "plan": plan.id}
        # Render bills from the job's own start: cost runs from there, not from our poll.
        return Placement(plan.usd_per_hour, details, at=_time(job.get("startedAt")))

    async def _create_service(
        self, d: Deployment, h: RenderHandle, spec: JobSpec, save: SaveHandle
    ) -> None:
        owner = await self.client.owner_id()
        body = {
            "type": "background_worker",
            "name": service_name(d.job_id),
            "ownerId": owner,
            "image": {"ownerId": owner, "imagePath": spec.image},
            "envVars": [{"key": k, "value": v} for k, v in (spec.env or {}).items()],
            "serviceDetails": {
                "runtime": "image",
                "plan": self.s.render_base_plan,
                "region": self.s.render_region,
                "numInstances": 1,
            },
        }
        attempt = 0
        while h.service_id is None:
            if h.creating_service and await self._adopt_service(d, h):
                break
            h.creating_service = True
            d.handle = h.to_dict()
            await save(d)
            try:
                h.service_id, h.deploy_id = await self.client.create_service(body)
            except RenderError as exc:
                if exc.status == 409 or (exc.retryable and attempt < self.s.render_max_retries):
                    attempt += 1  # 409: the name exists, so an earlier create landed: adopt it
                    await asyncio.sleep(backoff(attempt))
                    continue
                await self._adopt_service(d, h)
                raise Refused(f"Render refused the service: {exc.message}") from None
        h.creating_service = False
        d.handle = h.to_dict()
        await save(d)
        log.info("render.service_created", service_id=h.service_id)

    async def _adopt_service(self, d: Deployment, h: RenderHandle) -> bool:
        """Find the service an unanswered create made, by its name."""
        h.service_id = await self.client.find_service(service_name(d.job_id))
        if h.service_id is None:
            return False
        latest = await self.client.latest_deploy(h.service_id)
        h.deploy_id = None if latest is None else str(latest["id"])
        d.handle = h.to_dict()
        return True

    async def _wait_live(self, h: RenderHandle) -> None:
        assert h.service_id is not None and h.deploy_id is not None
        deadline = time.monotonic() + self.s.render_deploy_timeout
        while True:
            deploy = await self.client.deploy(h.service_id, h.deploy_id)
            status = str(deploy.get("status"))
            if status == "live":
                return
            if status in FAILED_DEPLOYS:
                raise Refused(await self._deploy_failure(h.service_id, deploy, status))
            if time.monotonic() >= deadline:
                raise Refused(
                    f"the Render deploy was not live within {self.s.render_deploy_timeout:g} s "
                    f"(status {status})"
                )
            await asyncio.sleep(self.s.render_poll_interval)

    async def _deploy_failure(self, service_id: str, deploy: dict[str, Any], status: str) -> str:
        """The build log's own words (e.g. the image pull error), else the deploy status."""
        since = str(deploy.get("createdAt") or format_time(utcnow()))
        for line in await self.client.log_lines(service_id, since, limit=10):
            if "pull" in line.lower() or "error" in line.lower():
                return line.removeprefix("==> ").strip()
        return f"the Render deploy ended {status}"

    async def _start_job(
        self, d: Deployment, h: RenderHandle, command: str, plan: str, save: SaveHandle
    ) -> None:
        assert h.service_id is not None
        attempt = 0
        while h.job_id is None:
            if h.creating_job:  # the service is this job's alone: any job on it is ours
                existing = await self.client.jobs(h.service_id)
                if existing:
                    h.job_id = str(existing[-1]["id"])
                    break
            h.creating_job = True
            d.handle = h.to_dict()
            await save(d)
            try:
                h.job_id = str((await self.client.create_job(h.service_id, command, plan))["id"])
            except RenderError as exc:
                if not exc.retryable or attempt >= self.s.render_max_retries:
                    raise Refused(f"Render refused the job: {exc.message}") from None
                attempt += 1
                await asyncio.sleep(backoff(attempt))
        h.creating_job = False
        d.handle = h.to_dict()
        await save(d)

    async def _wait_for_instance(self, h: RenderHandle) -> dict[str, Any]:
        """Until an instance takes the job (billing starts then); none in time → Refused."""
        assert h.service_id is not None and h.job_id is not None
        deadline = time.monotonic() + self.s.render_start_timeout
        while True:
            job = await self.client.job(h.service_id, h.job_id)
            if job.get("status") not in (None, "pending"):
                return job
            if time.monotonic() >= deadline:
                raise Refused(
                    f"no Render instance took the job within {self.s.render_start_timeout:g} s"
                )
            await asyncio.sleep(self.s.render_poll_interval)

    # --- watch: the job's status, and its log for the exit code ---

    async def watch(self, d: Deployment) -> AsyncIterator[Observation]:
        h = RenderHandle.of(d.handle)
        assert h.service_id is not None and h.job_id is not None
        started = False  # deploy() returned once an instance took the job
        while True:
            try:
                job = await self.client.job(h.service_id, h.job_id)
            except RenderError as exc:
                if exc.status != 404:
                    raise
                yield Outcome("failed", "the Render job or its service was deleted outside Cortex")
                return
            status = job.get("status")
            if not started:
                started = True
                yield Started(at=_time(job.get("startedAt")))
            if status in ENDED_JOBS:
                yield await self._outcome(h.job_id, job)
                return
            await asyncio.sleep(self.s.render_poll_interval)

    async def _outcome(self, render_job_id: str, job: dict[str, Any]) -> Outcome:
        since = str(job.get("createdAt") or format_time(utcnow()))
        lines = await self.client.log_lines(render_job_id, since, limit=10)
        code = next((c for c in map(exit_code_in, lines) if c is not None), None)
        at = _time(job.get("finishedAt"))
        status = job["status"]
        if status == "succeeded":
            return Outcome("completed", None, 0 if code is None else code, at)
        text = " ".join(lines).lower()
        if status == "canceled":
            reason = "the job was canceled on Render, not by Cortex"
        elif "out of memory" in text:
            reason = "out of memory: the job exceeded its plan's memory"
        elif "instance lost" in text:
            reason = "instance lost: Render terminated the job's instance"
        elif code is None:
            reason = "the Render job failed (no exit status in its log)"
        else:
            reason = f"container exited with code {code}"
        return Outcome("failed", reason, code, at)

    # --- telemetry: the job's log subscription and Render's metrics ---

    async def logs(self, d: Deployment, after: LogCursor) -> AsyncIterator[LogRecord]:
        """Render's log timestamps are strictly increasing, so a resumed subscription starts
        at the last published line's time and skips what is not newer. Ends after Render's
        `==> Exited with status N` line, the job's last."""
        h = RenderHandle.of(d.handle)
        assert h.job_id is not None
        last = parse_time(after.timestamp) if after.timestamp else None
        seq = after.seq
        async for entry in self.client.subscribe_logs(h.job_id, after.timestamp or EPOCH):
            at = parse_time(str(entry["timestamp"]))
            if last is not None and at <= last:
                continue
            message = str(entry.get("message", ""))
            labels = {str(x["name"]): str(x["value"]) for x in entry.get("labels", [])}
            seq, last = seq + 1, at
            stream = log_stream(message, labels.get("level"))
            yield LogRecord(seq, record_time(at), stream, cut_line(message))
            if stream == "system" and exit_code_in(message) is not None:
                return

    async def usage(self, d: Deployment) -> Usage | None:
        """Averages since the previous call from `/metrics/cpu` and `/metrics/memory`
        (sampled by Render from the instance); Render has no per-job bandwidth series."""
        h = RenderHandle.of(d.handle)
        if h.job_id is None:
            return None
        now = utcnow()
        start = self._sampled.get(h.job_id)
        self._sampled[h.job_id] = format_time(now) or ""
        if start is None:
            return None  # the first call only marks the start of the interval
        seconds = max((now - parse_time(start)).total_seconds(), 0.001)
        cores = await self.client.latest_metric("cpu", h.job_id, start, seconds)
        memory = await self.client.latest_metric("memory", h.job_id, start, seconds)
        if cores is None or memory is None:
            return None
        return Usage(cpu_millicores=cores * 1000, memory_bytes=int(memory))

    # --- release, extend, price, probe ---

    async def release(self, d: Deployment) -> None:
        """Deleting the base service stops its job first, then nothing of it is left."""
        h = RenderHandle.of(d.handle)
        self._sampled.pop(h.job_id or "", None)
        if h.service_id is None and h.creating_service:
            h.service_id = await self.client.find_service(service_name(d.job_id))
        if h.service_id is not None:
            await self.client.delete_service(h.service_id)

    async def extend(self, d: Deployment, total_seconds: int) -> dict[str, Any]:
        """Render sets no run-time limit on one-off jobs (Cortex's expiry is the limit), so
        more time needs nothing from Render; billing simply continues per second."""
        return {"duration": total_seconds, "plan": d.handle.get("plan")}

    async def price(self) -> NetworkPrice:
        """Render publishes no price API: the configured plan table (settings) is the price."""
        cpu, memory = linear_rates(self.types)
        return NetworkPrice(
            network=self.name,
            cpu_core_hour=cpu,
            memory_gb_hour=memory,
            storage_gb_hour=0.0,
            instance_types=self.types,
            updated_at=format_time(utcnow()) or "",
        )

    async def probe(self) -> None:
        await self.client.call("GET", "/owners", params={"limit": "1"}, retry=False)


def _client(s: RenderSettings) -> RenderClient:
    return RenderClient(
        s.render_api_url, s.render_api_key, s.render_request_timeout, s.render_max_retries
    )


def _types(s: RenderSettings) -> list[InstanceType]:
    return instance_types(s.render_plans, s.render_hours_per_month)


def _time(value: Any) -> datetime | None:
    """A Render timestamp (RFC 3339), or None."""
    return parse_time(value) if isinstance(value, str) and value else None
