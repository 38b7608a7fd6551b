"""The workload runner: real processes, their output, exit codes, limits and resource use."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import psutil
import pytest
import uvloop

from devnets.feed import Feed
from devnets.runner import ImagePullError, LogLine, PortSpec, Workload, WorkloadSpec

PY = sys.executable


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `check()` holds, failing after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            if check():
                return
            await asyncio.sleep(0.02)


def lines(workload: Workload) -> list[tuple[str, str]]:
    return [(line.stream, line.line) for line in workload.logs.after(0)]


async def run(
    tmp_path: Path, image: str, command: list[str] | None = None, **kw: object
) -> Workload:
    spec = WorkloadSpec(image=image, command=command, workdir=tmp_path / "job", **kw)  # type: ignore[arg-type]
    workload = Workload(spec)
    await workload.start()
    return workload


async def test_exit_code_and_both_streams(tmp_path: Path) -> None:
    workload = await run(tmp_path, "alpine", ["sh", "-c", "echo hello; echo err >&2; exit 3"])
    assert await workload.wait() == 3
    assert workload.state == "exited"
    assert lines(workload) == [("stdout", "hello"), ("stderr", "err")]
    assert [line.seq for line in workload.logs.after(0)] == [1, 2]
    assert workload.started_at is not None and workload.ended_at is not None
    assert workload.started_at <= workload.ended_at


async def test_merged_output_keeps_the_order_lines_were_written_in(tmp_path: Path) -> None:
    script = "for i in 1 2 3; do echo out$i; echo err$i >&2; done"
    spec = WorkloadSpec(image="alpine", command=["sh", "-c", script], workdir=tmp_path / "job")
    workload = Workload(spec, merge_output=True)  # as a provider's log shows them
    await workload.start()
    assert await workload.wait() == 0
    assert lines(workload) == [("output", f"{s}{i}") for i in "123" for s in ("out", "err")]


async def test_signal_exit_maps_to_128_plus_signal(tmp_path: Path) -> None:
    workload = await run(tmp_path, "busybox", ["sh", "-c", "kill -TERM $$"])
    assert await workload.wait() == 143


async def test_env_is_minimal_plus_job_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST_SECRET", "leak")
    script = 'echo "$GREETING|$HOME|${HOST_SECRET:-none}"; pwd'
    workload = await run(tmp_path, "alpine", ["sh", "-c", script], env={"GREETING": "hi"})
    assert await workload.wait() == 0
    workdir = str(tmp_path / "job")
    assert lines(workload) == [("stdout", f"hi|{workdir}|none"), ("stdout", workdir)]


async def test_follow_from_seq_while_lines_arrive_has_no_gap_or_duplicate(tmp_path: Path) -> None:
    script = "import time\nfor i in range(1, 401):\n    print(i)\n    time.sleep(0.001)"
    workload = await run(tmp_path, "python:3.11", [PY, "-c", script])

    async def collect(from_seq: int) -> list[LogLine]:
        return [line async for line in workload.follow(from_seq)]

    early = asyncio.create_task(collect(0))
    await eventually(lambda: workload.logs.next_seq > 50)
    assert workload.state == "running"  # the late followers below really join mid-stream
    late = [asyncio.create_task(collect(seq)) for seq in (20, 45, workload.logs.next_seq - 1)]
    results = await asyncio.gather(early, *late)
    assert await workload.wait() == 0
    for from_seq, got in zip((0, 20, 45), results, strict=False):
        assert [line.seq for line in got] == list(range(from_seq + 1, 401))
        assert [line.line for line in got] == [str(n) for n in range(from_seq + 1, 401)]
    assert results[3][-1].line == "400"


async def test_bounded_log_keeps_the_last_lines() -> None:
    feed: Feed[int] = Feed(capacity=10)
    for n in range(1, 51):
        feed.append(n)
    feed.close()
    assert feed.first_seq == 41
    assert [n async for n in feed.follow(0)] == list(range(41, 51))
    assert feed.tail(3) == [48, 49, 50]


async def test_usage_of_a_cpu_burner_is_about_one_core(tmp_path: Path) -> None:
    workload = await run(tmp_path, "python:3.11", [PY, "-c", "while True: pass"])
    try:
        workload.usage()
        await asyncio.sleep(1.0)
        usage = workload.usage()
        assert 400 <= usage.cpu_millicores <= 1300
        assert usage.memory_bytes > 1_000_000
        assert (usage.rx_bytes, usage.tx_bytes) == (0, 0)
    finally:
        await workload.stop(grace=1)


async def test_stop_kills_the_whole_process_tree(tmp_path: Path) -> None:
    workload = await run(tmp_path, "alpine", ["sh", "-c", "sleep 60 & echo started; sleep 60"])
    await eventually(lambda: workload.logs.next_seq > 1)
    assert workload.pid is not None
    tree = [workload.pid, *(c.pid for c in psutil.Process(workload.pid).children(recursive=True))]
    assert len(tree) >= 3
    began = time.monotonic()
    await workload.stop(grace=2)
    assert time.monotonic() - began < 2  # sh and sleep die on SIGTERM, no SIGKILL wait
    assert workload.exit_code == 143
    await eventually(lambda: not any(_alive(pid) for pid in tree))


async def test_background_children_die_with_the_main_process(tmp_path: Path) -> None:
    workload = await run(tmp_path, "alpine", ["sh", "-c", "sleep 60 & echo $!"])
    assert await asyncio.wait_for(workload.wait(), 5) == 0
    child = int(workload.logs.after(0)[0].line)
    await eventually(lambda: not _alive(child))


async def test_a_child_escaping_the_group_cannot_hold_the_workload_open(tmp_path: Path) -> None:
    # setsid puts the child outside the workload's process group, so the SIGKILL of the
    # group misses it, and it keeps the output pipes open: the runner stops reading them.
    program = (
        "import subprocess, sys; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], "
        "start_new_session=True); print(child.pid, flush=True)"
    )
    workload = await run(tmp_path, "python:3.12", ["python", "-c", program])
    try:
        assert await asyncio.wait_for(workload.wait(), 10) == 0
        assert workload.state == "exited"
        assert lines(workload) and lines(workload)[0][0] == "stdout"
    finally:
        escaped = int(workload.logs.after(0)[0].line)
        psutil.Process(escaped).kill()


async def test_hello_world_image(tmp_path: Path) -> None:
    workload = await run(tmp_path, "hello-world:latest")
    assert await workload.wait() == 0
    assert ("stdout", "Hello from Docker!") in lines(workload)


async def test_python_image_runs_args_with_the_host_interpreter(tmp_path: Path) -> None:
    workload = await run(tmp_path, "python:3.12-slim", args=["-c", "print(6 * 7)"])
    assert await workload.wait() == 0
    assert lines(workload) == [("stdout", "42")]


async def test_shell_image_without_command_exits_zero(tmp_path: Path) -> None:
    workload = await run(tmp_path, "ubuntu:24.04")
    assert await workload.wait() == 0


async def test_nginx_serves_welcome_page_on_forwarded_port(tmp_path: Path) -> None:
    workload = await run(tmp_path, "nginx:alpine", ports=[PortSpec(80, expose=True)])
    try:
        host_port = workload.forwarded_ports[80]
        assert host_port != 80
        body = await _get_when_up(f"http://127.0.0.1:{host_port}/")
        assert "Welcome to nginx!" in body
    finally:
        await workload.stop(grace=1)
    assert workload.state == "exited"


@pytest.mark.parametrize(
    ("image", "command"),
    [("example.com/unknown/app:1", None), ("registry.invalid/x:1", ["sh", "-c", "echo never"])],
)
async def test_unpullable_images_fail_to_start(
    tmp_path: Path, image: str, command: list[str] | None
) -> None:
    workload = Workload(WorkloadSpec(image=image, command=command, workdir=tmp_path / "job"))
    with pytest.raises(ImagePullError) as caught:
        await workload.start()
    assert caught.value.reason.startswith(f'Failed to pull image "{image}": ')
    assert workload.state == "failed"
    assert workload.failure_reason == caught.value.reason
    assert workload.pid is None
    assert [line async for line in workload.follow()] == []


async def test_missing_executable_exits_127(tmp_path: Path) -> None:
    workload = await run(tmp_path, "alpine", ["definitely-not-a-program-xyz"])
    assert await workload.wait() == 127
    assert workload.state == "failed"
    assert "definitely-not-a-program-xyz" in lines(workload)[0][1]


async def test_a_program_is_found_on_the_jobs_own_path(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    program = tools / "greet"
    program.write_text('#!/bin/sh\necho "hi from $0"\n')
    program.chmod(0o755)
    env = {"PATH": f"{tools}:/usr/bin:/bin"}
    for _ in range(2):  # the second spawn finds it remembered
        workload = await run(tmp_path, "alpine", ["greet"], env=env)
        assert await workload.wait() == 0
        assert lines(workload) == [("stdout", f"hi from {program}")]
    # Another job's PATH without that directory: the name means nothing there.
    workload = await run(tmp_path, "alpine", ["greet"], env={"PATH": "/usr/bin:/bin"})
    assert await workload.wait() == 127


async def test_memory_limit_is_enforced_and_reported_as_oom(tmp_path: Path) -> None:
    spec = WorkloadSpec(
        image="python:3.11",
        command=[PY, "-c", "blob = bytearray(1024 ** 3)"],
        workdir=tmp_path / "job",
        memory_bytes=256 * 1024**2,
    )
    workload = Workload(spec, enforce_memory_limit=True)
    await workload.start()
    assert await workload.wait() != 0
    assert workload.oom_killed


async def test_without_enforcement_the_same_allocation_succeeds(tmp_path: Path) -> None:
    spec = WorkloadSpec(
        image="python:3.11",
        command=[PY, "-c", "blob = bytearray(300 * 1024 ** 2)"],
        workdir=tmp_path / "job",
        memory_bytes=256 * 1024**2,
    )
    workload = Workload(spec)
    await workload.start()
    assert await workload.wait() == 0
    assert not workload.oom_killed


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def _get_when_up(url: str, timeout: float = 10.0) -> str:
    async with aiohttp.ClientSession() as session, asyncio.timeout(timeout):
        while True:
            try:
                async with session.get(url) as response:
                    return await response.text()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("merge_output", [False, True])
def test_an_ended_workload_holds_no_file_descriptor(tmp_path: Path, merge_output: bool) -> None:
    """Under uvloop (the devnets' loop) a pipe stays open at EOF until its transport is
    closed: a devnet that ran ten thousand jobs ran out of descriptors."""

    async def scenario() -> tuple[int, int]:
        await run(tmp_path, "alpine:3.20", ["true"])  # first use: imports, loop internals
        await asyncio.sleep(0.05)
        before = psutil.Process().num_fds()
        ended = []  # kept: their pipes must be closed by then, not when collected
        for n in range(20):
            spec = WorkloadSpec(image="alpine:3.20", command=["true"], workdir=tmp_path / str(n))
            workload = Workload(spec, merge_output=merge_output)
            await workload.start()
            assert await workload.wait() == 0
            ended.append(workload)
        await asyncio.sleep(0.05)
        return before, psutil.Process().num_fds()

    before, after = uvloop.run(scenario())
    assert after <= before + 2, f"{after - before} descriptors left behind by 20 workloads"
