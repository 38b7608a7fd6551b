"""Runs one "container" workload as a real local process tree (network-agnostic)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

import psutil

from devnets.feed import Feed
from devnets.images import ImagePullError, Launch, resolve

__all__ = [
    "LOG_CAPACITY",
    "ImagePullError",
    "LogLine",
    "PortSpec",
    "Usage",
    "Workload",
    "WorkloadSpec",
    "WorkloadState",
]

LOG_CAPACITY = 100_000  # lines kept in memory per workload; older ones are dropped
READ_CHUNK = 65_536
MAX_LINE = 65_536  # longer lines are split, so one runaway line cannot exhaust memory
EXEC_NOT_FOUND = 127
PIPE_RELEASE_SECONDS = 2.0
OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "out of memory", "std::bad_alloc")

WorkloadState = Literal["starting", "running", "exited", "failed"]
Stream = Literal["stdout", "stderr", "output"]  # output: both, in the order written


@dataclass(frozen=True)
class PortSpec:
    """A container port; `expose` means reachable from outside the deployment."""

    port: int
    expose: bool = True
    protocol: Literal["TCP", "UDP"] = "TCP"


@dataclass
class WorkloadSpec:
    """What to run: the container-level description a network hands over."""

    image: str
    workdir: Path
    command: list[str] | None = None
    args: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    ports: list[PortSpec] = field(default_factory=list)
    cpu_millicores: int = 1000
    memory_bytes: int = 512 * 1024 * 1024


@dataclass(frozen=True)
class Usage:
    """Resource use of the process tree; cpu is averaged since the previous reading."""

    cpu_millicores: float
    memory_bytes: int
    rx_bytes: int
    tx_bytes: int


@dataclass(frozen=True)
class LogLine:
    """One line of process output."""

    seq: int
    timestamp: datetime
    stream: Stream
    line: str


class Workload:
    """A workload process: start, follow its output, measure it, stop it."""

    def __init__(
        self,
        spec: WorkloadSpec,
        *,
        enforce_memory_limit: bool = False,
        log_capacity: int = LOG_CAPACITY,
        merge_output: bool = False,
    ) -> None:
        self.spec = spec
        self.enforce_memory_limit = enforce_memory_limit
        # One pipe for stdout and stderr, like a container runtime's log (`kubectl logs`):
        # lines keep the order they were written in, and a workload costs one reader less.
        self.merge_output = merge_output
        self.oom_killed = False
        self.failure_reason: str | None = None
        self._state: WorkloadState = "starting"
        self._exit_code: int | None = None
        self._started_at: datetime | None = None
        self._ended_at: datetime | None = None
        self._forwarded: dict[int, int] = {}
        self._logs: Feed[LogLine] = Feed(log_capacity)
        self._proc: subprocess.Popen[bytes] | None = None
        self._reaped = False  # its pid may belong to someone else now: never signal it
        self._waiter: asyncio.Task[None] | None = None
        self._stopping = False
        self._cpu_mark: tuple[float, float] = (time.monotonic(), 0.0)

    # --- properties -------------------------------------------------------------------------

    @property
    def state(self) -> WorkloadState:
        """starting | running | exited | failed."""
        return self._state

    @property
    def exit_code(self) -> int | None:
        """Exit status once ended; a signal N is reported as 128+N like a container runtime."""
        return self._exit_code

    @property
    def started_at(self) -> datetime | None:
        """When the process was spawned."""
        return self._started_at

    @property
    def ended_at(self) -> datetime | None:
        """When the process ended or failed to start."""
        return self._ended_at

    @property
    def forwarded_ports(self) -> dict[int, int]:
        """Container port -> host port on 127.0.0.1."""
        return dict(self._forwarded)

    @property
    def pid(self) -> int | None:
        """Host pid of the main process (also its process group id)."""
        return self._proc.pid if self._proc else None

    @property
    def logs(self) -> Feed[LogLine]:
        """The retained output lines."""
        return self._logs

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the process; raise ImagePullError when the image cannot be run."""
        if self._proc is not None or self._state != "starting":
            raise RuntimeError("workload already started")
        try:
            launch = resolve(self.spec.image, self.spec.command, self.spec.args, self._port_order())
        except ImagePullError as exc:
            self._fail(exc.reason)
            raise
        self._prepare_workdir(launch)  # a mkdir and a few small files: cheaper than a thread hop
        self._forwarded = dict(launch.port_map)
        try:
            self._proc = self._spawn(launch.argv)
        except OSError as exc:
            # Like a container whose entrypoint is missing: it starts and dies with 127.
            self._started_at = _now()
            self._log("stderr", f"exec {launch.argv[0]!r}: {exc.strerror or exc}")
            self._finish(EXEC_NOT_FOUND, failed=True)
            return
        self._started_at = _now()
        self._state = "running"
        self._cpu_mark = (time.monotonic(), 0.0)
        self._waiter = asyncio.create_task(self._supervise(self._proc))

    async def wait(self) -> int:
        """Wait for the process to end and return its exit code."""
        if self._waiter is not None:
            await asyncio.shield(self._waiter)
        if self._exit_code is None:
            raise RuntimeError(f"workload has no exit code (state {self._state})")
        return self._exit_code

    async def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it after `grace` seconds; no-op once ended."""
        if self._proc is None or self._waiter is None:
            return
        self._stopping = True
        if not self._waiter.done():
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._waiter), grace)
        self._signal_group(signal.SIGKILL)  # leftovers of the tree, if any
        await asyncio.shield(self._waiter)

    def follow(self, from_seq: int = 0) -> AsyncIterator[LogLine]:
        """Retained lines after `from_seq`, then live ones until the process ended."""
        return self._logs.follow(from_seq)

    def usage(self) -> Usage:
        """CPU (since the last call), RSS of the process tree; network is not measured (0)."""
        procs = self._tree()
        now = time.monotonic()
        cpu_seconds = sum(_cpu_seconds(p) for p in procs)
        last_time, last_cpu = self._cpu_mark
        self._cpu_mark = (now, cpu_seconds)
        elapsed = now - last_time
        busy = max(cpu_seconds - last_cpu, 0.0)
        millicores = busy / elapsed * 1000 if elapsed > 0 else 0.0
        memory = sum(_rss(p) for p in procs)
        # Per-process network counters do not exist on Linux without namespaces or eBPF.
        return Usage(cpu_millicores=millicores, memory_bytes=memory, rx_bytes=0, tx_bytes=0)

    # --- internals --------------------------------------------------------------------------

    async def _supervise(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        outputs: list[tuple[IO[bytes], Stream]] = [
            (proc.stdout, "output" if self.merge_output else "stdout")
        ]
        if proc.stderr is not None:
            outputs.append((proc.stderr, "stderr"))
        pipes = [await _reader(pipe) for pipe, _ in outputs]
        readers = [
            asyncio.create_task(self._pump(stream, name))
            for (stream, _), (_, name) in zip(pipes, outputs, strict=True)
        ]
        # Watch the main process itself: its pipes can outlive it in a background child.
        await _exited(proc.pid)
        # Like a container: when the main process ends, everything else in it dies too.
        # Signalled before the reap, while the pid (and so the group id) is still ours.
        self._signal_group(signal.SIGKILL)
        returncode = proc.wait()  # a zombie already: returns at once
        self._reaped = True
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*readers)), PIPE_RELEASE_SECONDS)
        except TimeoutError:
            # A child escaped the process group (setsid) and still holds our pipes.
            for stream, _ in pipes:
                stream.feed_eof()
            await asyncio.gather(*readers)
        finally:
            # uvloop leaves a pipe open at EOF until its transport is closed (which closes
            # the file object too): unclosed, every workload kept two fds, and once garbage
            # collected the file object closed its fd number again, by then someone's socket.
            for _, transport in pipes:
                transport.close()
        code = 128 - returncode if returncode < 0 else returncode
        self.oom_killed = self._looks_oom(returncode)
        self._finish(code, failed=False)

    async def _pump(self, stream: asyncio.StreamReader, name: Stream) -> None:
        pending = b""
        while chunk := await stream.read(READ_CHUNK):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            while len(pending) > MAX_LINE:
                lines.append(pending[:MAX_LINE])
                pending = pending[MAX_LINE:]
            self._log_many(name, [_decode(raw) for raw in lines])  # one wake-up per read
        if pending:
            self._log(name, _decode(pending))

    def _log(self, stream: Stream, line: str) -> None:
        self._log_many(stream, [line])

    def _log_many(self, stream: Stream, lines: list[str]) -> None:
        now, seq = _now(), self._logs.next_seq
        self._logs.extend(
            [LogLine(seq + i, now, stream, line.rstrip("\r")) for i, line in enumerate(lines)]
        )

    def _looks_oom(self, returncode: int) -> bool:
        if returncode == 0:
            return False
        if returncode == -signal.SIGKILL and not self._stopping:
            return True  # the kernel OOM killer is the usual unrequested SIGKILL
        recent = self._logs.tail(20)
        return any(marker in line.line for line in recent for marker in OOM_MARKERS)

    def _fail(self, reason: str) -> None:
        self.failure_reason = reason
        self._state = "failed"
        self._ended_at = _now()
        self._logs.close()

    def _finish(self, code: int, *, failed: bool) -> None:
        self._exit_code = code
        self._state = "failed" if failed else "exited"
        self._ended_at = _now()
        self._logs.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._proc is None or self._reaped:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    def _tree(self) -> list[psutil.Process]:
        if self._proc is None or self._state != "running":
            return []
        try:
            root = psutil.Process(self._proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _port_order(self) -> list[int]:
        exposed = [p.port for p in self.spec.ports if p.expose]
        return exposed + [p.port for p in self.spec.ports if not p.expose]

    def _prepare_workdir(self, launch: Launch) -> None:
        self.spec.workdir.mkdir(parents=True, exist_ok=True)
        for relative, content in launch.files.items():
            path = self.spec.workdir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """Popen, not asyncio's subprocess: without a preexec hook it spawns with vfork and
        returns once the child has exec'd (no blocking), under any event loop; uvloop's own
        spawn forks, several times the cost per workload."""
        env = self._env()
        return subprocess.Popen(
            argv,
            executable=_find_program(argv[0], env.get("PATH", "")),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if self.merge_output else subprocess.PIPE,
            cwd=self.spec.workdir,
            env=env,
            start_new_session=True,  # own process group: stop() kills the whole tree
            preexec_fn=self._limits() if self.enforce_memory_limit else None,
        )

    def _env(self) -> dict[str, str]:
        base = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(self.spec.workdir),
            "LANG": "C.UTF-8",
            # Without a tty Python buffers stdout; live logs are the point of the devnet.
            "PYTHONUNBUFFERED": "1",
        }
        return base | self.spec.env

    def _limits(self) -> Callable[[], None]:
        limit = self.spec.memory_bytes

        def apply() -> None:  # runs in the child between fork and exec
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        return apply


_FOUND: dict[tuple[str, str], str] = {}


def _find_program(program: str, path: str) -> str:
    """`program` looked up on `path` once (found ones are remembered): left to the child,
    every spawn tried each directory of the devnet's long PATH in turn, a failed exec each.
    Unknown programs are passed on as given, so the spawn fails like a missing entrypoint."""
    if "/" in program:  # a path: relative ones are the workload's, resolved in its own dir
        return program
    found = _FOUND.get((program, path))
    if found is None:
        found = shutil.which(program, path=path)
        if found is None:
            return program
        _FOUND[(program, path)] = found
    return found


async def _reader(pipe: IO[bytes]) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    """A stream over a child's output pipe, read by the event loop."""
    stream = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(stream), pipe
    )
    return stream, transport


async def _exited(pid: int) -> None:
    """Return once our child `pid` has exited (a zombie: nobody else reaps it)."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:  # no pidfd support (Linux < 5.3)
        await _poll_exited(pid)
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:  # fires once the process has exited
        if not done.done():
            done.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)


async def _poll_exited(pid: int) -> None:
    while not _has_exited(pid):  # noqa: ASYNC110 - without a pidfd there is nothing to await
        await asyncio.sleep(0.1)


def _has_exited(pid: int) -> bool:
    """Whether our child has exited; WNOWAIT leaves it unreaped (its pid stays ours)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _cpu_seconds(proc: psutil.Process) -> float:
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system + times.children_user + times.children_system


def _rss(proc: psutil.Process) -> int:
    try:
        rss: int = proc.memory_info().rss
        return rss
    except psutil.Error:
        return 0


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _now() -> datetime:
    return datetime.now(UTC)
