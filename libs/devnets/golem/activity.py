"""An activity: the provider's exe-unit running exe-script batches as real local processes."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from devnets.golem.exescript import Batch, Command, CommandResult
from devnets.golem.faults import Faults
from devnets.golem.market import Agreement
from devnets.golem.packages import PackageError, resolve_package
from devnets.golem.settings import CPU_SEC, DURATION_SEC, GolemDevnetSettings
from devnets.runner import ImagePullError, Workload, WorkloadSpec

ActivityState = Literal["New", "Initialized", "Deployed", "Ready", "Unresponsive", "Terminated"]
TASK_PACKAGE = "golem.srv.comp.task_package"
MEMORY_GIB = "golem.inf.mem.gib"
GIB = 2**30


class Activity:
    """Exe-unit state machine (Initialized → Deployed → Ready → Terminated) plus usage counters."""

    def __init__(
        self,
        agreement: Agreement,
        work_dir: Path,
        settings: GolemDevnetSettings,
        faults: Callable[[], Faults],
    ) -> None:
        self.activity_id = secrets.token_hex(32)
        self.agreement = agreement
        self.work_dir = work_dir / self.activity_id
        self.state: ActivityState = "Initialized"
        self.reason: str | None = None
        self.error_message: str | None = None
        self.image: str | None = None
        self.env: dict[str, str] = {}
        self.batches: dict[str, Batch] = {}
        self.workloads: list[Workload] = []
        self.cpu_seconds = 0.0
        self._settings = settings
        self._faults = faults
        self._lock = asyncio.Lock()  # batches run one after another, like on an exe-unit
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = time.monotonic()
        self._ended: float | None = None
        self._sampled: dict[int, float] = {}  # id(workload) -> monotonic time of last sample

    @property
    def terminated(self) -> bool:
        """True once destroyed or terminated."""
        return self.state == "Terminated"

    # --- batches -----------------------------------------------------------------------------

    def submit(self, commands: list[Command]) -> Batch:
        """Queue an exe-script; it runs in the background."""
        batch = Batch(secrets.token_hex(16), commands)
        self.batches[batch.batch_id] = batch
        task = asyncio.create_task(self._execute(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return batch

    async def _execute(self, batch: Batch) -> None:
        index = 0
        try:
            async with self._lock:
                for index, command in enumerate(batch.commands):
                    result = await self._command(batch, index, command)
                    last = index == len(batch.commands) - 1 or result.result == "Error"
                    batch.record(replace(result, is_batch_finished=last))
                    if last:
                        return
        finally:
            if not batch.finished:  # cancelled by destroy
                message = f"activity terminated: {self.reason or 'destroyed'}"
                batch.record(CommandResult(index, "Error", message=message, is_batch_finished=True))

    async def _command(self, batch: Batch, index: int, command: Command) -> CommandResult:
        batch.emit(index, {"started": {"command": command.to_json()}})
        if self.terminated:
            result = CommandResult(index, "Error", message="activity is terminated")
        elif command.name == "deploy":
            result = await self._deploy(index, command.args)
        elif command.name == "start":
            result = self._start(index)
        elif command.name == "run":
            result = await self._run(batch, index, command.args)
        elif command.name == "terminate":
            await self._stop_workloads()
            self._set_state("Terminated", "terminate command")
            result = CommandResult(index, "Ok")
        else:
            result = CommandResult(
                index, "Error", message=f"{command.name} is not supported by the devnet"
            )
        code = result.return_code if result.return_code is not None else int(result.result != "Ok")
        batch.emit(index, {"finished": {"return_code": code, "message": result.message}})
        return result

    async def _deploy(self, index: int, args: dict[str, Any]) -> CommandResult:
        delay = self._settings.delay(self._settings.deploy_seconds)
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            if self._faults().deploy_failure:
                raise PackageError("image download failed: hash mismatch (injected)")
            image = resolve_package(self.agreement.demand.properties.get(TASK_PACKAGE))
        except PackageError as exc:
            self.error_message = str(exc)
            return CommandResult(index, "Error", message=f"Deploy failed: {exc}")
        self.image = image
        env = args.get("env") or {}
        self.env = {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}
        self._set_state("Deployed")
        return CommandResult(index, "Ok", stdout="deployed", stderr="")

    def _start(self, index: int) -> CommandResult:
        if self.state != "Deployed":
            return CommandResult(index, "Error", message=f"cannot start: activity is {self.state}")
        self._set_state("Ready")
        return CommandResult(index, "Ok", stdout="started", stderr="")

    async def _run(self, batch: Batch, index: int, args: dict[str, Any]) -> CommandResult:
        if self.state != "Ready" or self.image is None:
            return CommandResult(index, "Error", message=f"cannot run: activity is {self.state}")
        entry_point = args.get("entry_point")
        argv = [str(a) for a in args.get("args") or []]
        workload = Workload(
            WorkloadSpec(
                image=self.image,
                workdir=self.work_dir,
                command=[str(entry_point)] if entry_point else None,
                args=argv,
                env=self.env,
                memory_bytes=self._memory_bytes(),
            ),
            enforce_memory_limit=self._settings.enforce_memory_limit,
        )
        self.workloads.append(workload)
        try:
            await workload.start()
        except ImagePullError as exc:
            return CommandResult(index, "Error", message=exc.reason)
        self._sampled[id(workload)] = time.monotonic()
        streamer = asyncio.create_task(self._stream(batch, index, workload))
        code = await workload.wait()
        await streamer
        return self._run_result(index, workload, code)

    async def _stream(self, batch: Batch, index: int, workload: Workload) -> None:
        async for line in workload.follow():
            batch.emit(index, {line.stream: line.line + "\n"})

    def _run_result(self, index: int, workload: Workload, code: int) -> CommandResult:
        lines = workload.logs.tail(-1)
        stdout = "".join(x.line + "\n" for x in lines if x.stream == "stdout")
        stderr = "".join(x.line + "\n" for x in lines if x.stream == "stderr")
        if code == 0 and not self.terminated:
            return CommandResult(index, "Ok", stdout, stderr, return_code=0)
        message = f"ExeScript command exited with code {code}"
        if workload.oom_killed:
            message += f": out of memory (the VM has {self._memory_bytes() / GIB:g} GiB)"
        if self.terminated:
            message = f"activity terminated: {self.reason}; {message}"
        return CommandResult(index, "Error", stdout, stderr, message, return_code=code)

    def _memory_bytes(self) -> int:
        """The VM's memory: what the provider offered (its preset), as on a real provider."""
        return int(float(self.agreement.offer.properties.get(MEMORY_GIB, 0.5)) * GIB)

    # --- usage -------------------------------------------------------------------------------

    def sample(self) -> None:
        """Add the CPU time running processes used since the last sample."""
        current = time.monotonic()
        for workload in self.workloads:
            last = self._sampled.get(id(workload))
            if last is None or workload.state != "running":
                continue
            self.cpu_seconds += workload.usage().cpu_millicores / 1000 * (current - last)
            self._sampled[id(workload)] = current

    def usage(self) -> dict[str, float]:
        """Usage counters by name: wall seconds since creation, CPU seconds of its processes."""
        end = self._ended if self._ended is not None else time.monotonic()
        return {DURATION_SEC: end - self._started, CPU_SEC: self.cpu_seconds}

    def usage_vector(self) -> list[float]:
        """Counters in the order of the offer's golem.com.usage.vector."""
        counters = self.usage()
        return [counters.get(name, 0.0) for name in self.agreement.provider.usage_vector]

    # --- lifecycle ---------------------------------------------------------------------------

    async def destroy(self, reason: str) -> None:
        """Stop every process, end pending batches, freeze the usage counters."""
        self.sample()
        if not self.terminated:
            self._set_state("Terminated", reason)
        if self._ended is None:
            self._ended = time.monotonic()
        await self._stop_workloads()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stop_workloads()  # one may have been spawned while the batch was cancelled
        # What the processes printed stays in the batches' results; each workload's own copy
        # of its output (up to 100,000 lines) and the activity's files go (decision 63).
        self.workloads = []
        self._sampled.clear()
        await asyncio.to_thread(shutil.rmtree, self.work_dir, True)

    def live_processes(self) -> list[dict[str, Any]]:
        """Processes still running (for leak checks)."""
        return [
            {"activityId": self.activity_id, "pid": w.pid, "state": w.state, "image": self.image}
            for w in self.workloads
            if w.state in ("starting", "running") and w.pid is not None
        ]

    def state_json(self) -> dict[str, Any]:
        """ya-client's ActivityState."""
        return {
            "state": [self.state, None],
            "reason": self.reason,
            "errorMessage": self.error_message,
        }

    async def _stop_workloads(self) -> None:
        self.sample()
        grace = self._settings.stop_grace_seconds
        await asyncio.gather(*(w.stop(grace) for w in self.workloads))

    def _set_state(self, state: ActivityState, reason: str | None = None) -> None:
        self.state = state
        if reason is not None:
            self.reason = reason
