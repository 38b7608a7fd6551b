"""The emulated platform: services, deploys, jobs and their processes, logs, usage, faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from devnets.render.clock import new_id, now
from devnets.render.deploys import DeployTimings, run_deploy
from devnets.render.faults import Faults
from devnets.render.http import ApiError
from devnets.render.job_run import JobEnv, JobRun
from devnets.render.logstore import LogStore
from devnets.render.model import Deploy, Job, Service
from devnets.render.settings import Plan, RenderDevnetSettings
from devnets.render.views import job_view


class RenderPlatform:
    """State and behaviour behind the REST API and the control endpoint."""

    def __init__(self, settings: RenderDevnetSettings, work_dir: Path) -> None:
        self.settings = settings
        self.work_dir = work_dir
        self.faults = Faults()
        self.logs = LogStore(settings.log_capacity)
        self.services: dict[str, Service] = {}
        # Every service ever created, by name (white-box: "never two deployments for one job").
        self.created_by_name: Counter[str] = Counter()
        self.runs: dict[str, JobRun] = {}  # job id -> run (kept after the job ended)
        self._live: dict[str, JobRun] = {}  # the runs not seen ended yet: what the sampler reads
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the usage sampler."""
        self._spawn(self._sample_loop())

    async def shutdown(self) -> None:
        """Stop every job's process, cancel timers, end live log streams."""
        self._closed = True
        await asyncio.gather(*(run.cancel() for run in self.runs.values() if not run.job.ended))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.logs.close()

    # --- services ---------------------------------------------------------------------------

    async def create_service(self, service: Service) -> Deploy:
        """Register a service and start its first deploy."""
        if any(s.name == service.name for s in self.services.values()):
            raise ApiError(409, f"a service named {service.name!r} already exists")
        self.services[service.id] = service
        self.created_by_name[service.name] += 1
        return await self.deploy(service)

    async def deploy(self, service: Service) -> Deploy:
        """A new deploy of the service's image (awaited in zero-delay mode)."""
        deploy = Deploy(id=new_id("dep"), image_path=service.image_path, created_at=now())
        service.deploys.append(deploy)
        timings = DeployTimings(
            self.settings.delay(self.settings.deploy_queue_seconds),
            self.settings.delay(self.settings.deploy_build_seconds),
        )
        work = run_deploy(service, deploy, timings, self.logs, lambda: self.faults.fail_deploys)
        if self.settings.zero_delay:
            await work
        else:
            self._spawn(work)
        return deploy

    def service(self, service_id: str) -> Service:
        """A service by id, or 404."""
        try:
            return self.services[service_id]
        except KeyError:
            raise ApiError(404, "service not found") from None

    def set_suspended(self, service_id: str, suspended: bool) -> Service:
        """Suspend or resume a service (its jobs keep running)."""
        service = self.service(service_id)
        service.suspended = suspended
        service.updated_at = now()
        return service

    async def delete_service(self, service_id: str) -> None:
        """Remove a service; its running jobs are stopped and end `canceled`."""
        service = self.service(service_id)
        runs = [r for r in self.runs.values() if r.job.service_id == service.id]
        await asyncio.gather(*(r.cancel() for r in runs if not r.job.ended))
        del self.services[service.id]

    # --- jobs -------------------------------------------------------------------------------

    def create_job(self, service_id: str, start_command: str, plan: Plan | None) -> Job:
        """Start a job from the service's latest live deploy and all of its env vars."""
        service = self.service(service_id)
        if self._closed:
            raise ApiError(503, "the platform is shutting down")
        if service.live_deploy() is None:
            raise ApiError(400, "the service has no successful deploy to run a job from")
        if service.suspended and not self.settings.allow_jobs_when_suspended:
            raise ApiError(400, "cannot run a job on a suspended service")
        job = Job(
            id=new_id("job"),
            service_id=service.id,
            start_command=start_command,
            plan=plan or service.plan,
            created_at=now(),
        )
        run = JobRun(job, service, self._job_env())
        self.runs[job.id] = self._live[job.id] = run
        run.start()
        return job

    def job(self, service_id: str, job_id: str) -> JobRun:
        """A job of a service, or 404."""
        self.service(service_id)
        run = self.runs.get(job_id)
        if run is None or run.job.service_id != service_id:
            raise ApiError(404, "job not found")
        return run

    def jobs(self, service_id: str) -> list[JobRun]:
        """A service's jobs, newest first."""
        self.service(service_id)
        runs = [r for r in self.runs.values() if r.job.service_id == service_id]
        return sorted(runs, key=lambda r: r.job.created_at, reverse=True)

    async def cancel_job(self, service_id: str, job_id: str) -> Job:
        """Cancel a pending or running job; 409 once it has ended."""
        run = self.job(service_id, job_id)
        if run.job.ended:
            raise ApiError(409, f"job is already {run.job.status}")
        await run.cancel()
        return run.job

    async def kill_job(self, job_id: str) -> Job:
        """Control: the instance running the job is lost; the job ends `failed`."""
        run = self.runs.get(job_id)
        if run is None:
            raise ApiError(404, "job not found")
        if run.pid is None:
            raise ApiError(409, f"job is {run.job.status}, it has no running process")
        await run.kill()
        return run.job

    # --- control ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Services not deleted, jobs not ended, live processes, billing, faults."""
        live = [r for r in self.runs.values() if not r.job.ended]
        processes = [
            {"jobId": r.job.id, "serviceId": r.job.service_id, "pid": r.pid}
            for r in self.runs.values()
            if r.pid is not None
        ]
        at = now()
        total = sum(
            r.job.billed_seconds(at) * r.job.plan.usd_per_second for r in self.runs.values()
        )
        return {
            "services": [
                {"id": s.id, "name": s.name, "suspended": s.suspended}
                for s in self.services.values()
            ],
            "jobs": [job_view(r.job) for r in live],
            "processes": processes,
            "billing": {"jobs": len(self.runs), "costUsd": total},
            "plans": [p.model_dump() for p in self.settings.plans.values()],
            "faults": self.faults.model_dump(by_alias=True),
        }

    # --- internals --------------------------------------------------------------------------

    def _job_env(self) -> JobEnv:
        return JobEnv(
            logs=self.logs,
            work_dir=self.work_dir,
            start_delay=self.settings.delay(self.settings.job_start_seconds),
            stop_grace=self.settings.stop_grace_seconds,
            enforce_memory_limit=self.settings.enforce_memory_limit,
            has_capacity=lambda: not self.faults.no_capacity,
        )

    async def _sample_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.metrics_interval_seconds)
            # Only live runs: the platform keeps every job it ran, the sampler must not walk them.
            for job_id, run in list(self._live.items()):
                if run.job.ended:
                    del self._live[job_id]
                    continue
                with contextlib.suppress(Exception):  # a process may vanish mid-reading
                    run.sample()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
