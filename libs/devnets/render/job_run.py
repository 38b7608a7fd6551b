"""Runs one job: wait for an instance, run `sh -c startCommand` for real, log, bill, end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from devnets.render.clock import now
from devnets.render.logstore import LogStore
from devnets.render.metrics import InstanceSamples, Sample
from devnets.render.model import Job, JobStatus, Service
from devnets.runner import ImagePullError, LogLine, Workload, WorkloadSpec

CAPACITY_POLL_SECONDS = 0.1
EXIT_LINE = "==> Exited with status {code}"  # what an adapter parses for the exit code
LOST_LINE = "==> Instance lost: the job's instance was terminated unexpectedly"
CANCELED_LINE = "==> Job canceled"
OOM_LINE = "==> Out of memory: the job exceeded its plan's memory limit"  # Render's OOM event


@dataclass(frozen=True)
class JobEnv:
    """What a job needs from the platform."""

    logs: LogStore
    work_dir: Path
    start_delay: float
    stop_grace: float
    enforce_memory_limit: bool
    has_capacity: Callable[[], bool]


class JobRun:
    """The life of one job; `done` is set once it has ended and its last log line is written."""

    def __init__(self, job: Job, service: Service, env: JobEnv) -> None:
        self.job = job
        self.service = service  # snapshot taken at creation: image and env vars
        self.image = service.image_path
        self.vars = _job_env(service, job)
        self.env = env
        self.workload: Workload | None = None
        self.usage = InstanceSamples.empty(service.id, job.id, job.plan)
        self.done = asyncio.Event()
        self._cancel = asyncio.Event()
        self._lost = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in the background."""
        self._task = asyncio.create_task(self._run())

    async def cancel(self) -> None:
        """Stop the job (SIGTERM, then SIGKILL after the grace); it ends `canceled`."""
        self._cancel.set()
        if self.workload is not None:
            await self.workload.stop(self.env.stop_grace)
        await self.done.wait()

    async def kill(self) -> None:
        """The instance dies under the job (SIGKILL of its tree); it ends `failed`."""
        if self.workload is None or self.workload.pid is None:
            raise RuntimeError("job has no running process")
        self._lost = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.workload.pid, signal.SIGKILL)  # pid is the group id too
        await self.done.wait()

    def sample(self) -> None:
        """Record the process tree's usage (only the sampler calls this: usage() resets)."""
        if self.workload is None or self.workload.state != "running":
            return
        usage = self.workload.usage()
        reading = Sample(now(), usage.cpu_millicores / 1000, usage.memory_bytes)
        self.usage.samples.append(reading)

    @property
    def pid(self) -> int | None:
        """Pid of the live process, if any."""
        if self.workload is None or self.workload.state != "running":
            return None
        return self.workload.pid

    async def _run(self) -> None:
        try:
            if not await self._wait_for_instance():
                self._end("canceled")
                return
            await self._execute()
        except Exception as exc:  # a host problem (e.g. work dir) must not hang the job
            self._log(f"==> Job could not run: {exc}", "error")
            self._end("failed")
            raise
        finally:
            self.done.set()

    async def _wait_for_instance(self) -> bool:
        """Pending: instance spin-up, then free capacity; False when canceled meanwhile."""
        if await self._canceled_within(self.env.start_delay):
            return False
        while not self.env.has_capacity():
            if await self._canceled_within(CAPACITY_POLL_SECONDS):
                return False
        return not self._cancel.is_set()

    async def _canceled_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):  # not wait_for: it can lose a cancellation
                await self._cancel.wait()
        return self._cancel.is_set()

    async def _execute(self) -> None:
        workload = Workload(self._spec(), enforce_memory_limit=self.env.enforce_memory_limit)
        self.workload = workload
        try:
            await workload.start()
        except ImagePullError as exc:
            self._log(exc.reason, "error")
            self._end("failed")
            return
        self.job.started_at = workload.started_at
        self.job.status = "running"
        if self._cancel.is_set():  # canceled while the process was being spawned
            await workload.stop(self.env.stop_grace)
        forward = asyncio.create_task(self._forward(workload))
        code = await workload.wait()
        await forward
        self._end(self._outcome(code), code)
        # The instance is gone: its filesystem with it, and its lines live on in the
        # platform's (bounded) log store, so the ended job keeps no copy of its own.
        self.workload = None
        await asyncio.to_thread(shutil.rmtree, workload.spec.workdir, ignore_errors=True)

    async def _forward(self, workload: Workload) -> None:
        async for line in workload.follow():
            self._log_line(line)

    def _outcome(self, code: int) -> JobStatus:
        if self._lost:
            self._log(LOST_LINE, "error")
            return "failed"
        if self._cancel.is_set():
            self._log(CANCELED_LINE, "info")
            return "canceled"
        if self.workload is not None and self.workload.oom_killed:
            self._log(OOM_LINE, "error")
        return "succeeded" if code == 0 else "failed"

    def _end(self, status: JobStatus, code: int | None = None) -> None:
        if code is not None:
            self._log(EXIT_LINE.format(code=code), "info" if code == 0 else "error")
        self.job.exit_code = code
        self.job.finished_at = now()
        self.job.status = status

    def _log_line(self, line: LogLine) -> None:
        level = "error" if line.stream == "stderr" else "info"
        self._log(line.line, level, line.timestamp)

    def _log(self, message: str, level: str, at: datetime | None = None) -> None:
        labels = {"resource": self.job.id, "instance": self.job.id, "level": level, "type": "app"}
        # A `resource` filter naming the service finds its jobs' lines too.
        resources = {self.job.id, self.service.id}
        self.env.logs.append(self.service.owner_id, message, labels, resources, at)

    def _spec(self) -> WorkloadSpec:
        return WorkloadSpec(
            image=self.image,
            workdir=self.env.work_dir / self.job.id,
            command=["sh", "-c", self.job.start_command],
            env=self.vars,
            cpu_millicores=self.job.plan.cpu_millicores,
            memory_bytes=self.job.plan.memory_bytes,
        )


def _job_env(service: Service, job: Job) -> dict[str, str]:
    """Render's own variables, then the service's env vars (which win)."""
    platform = {
        "RENDER": "true",
        "IS_PULL_REQUEST": "false",
        "RENDER_SERVICE_ID": service.id,
        "RENDER_SERVICE_NAME": service.name,
        "RENDER_SERVICE_TYPE": "background_worker",
        "RENDER_INSTANCE_ID": job.id,
    }
    return platform | dict(service.env)
