"""The exe-script that runs a job, and what its runtime events mean for the job."""

from __future__ import annotations

from typing import Any

from contracts.job import JobSpec
from provider_runtime.model import Outcome
from provider_runtime.network import Observation, Started

DEPLOY, START, RUN = 0, 1, 2
OOM_MARKERS = ("out of memory", "oom-kill", "oomkilled", "cannot allocate memory")


def exe_script(spec: JobSpec) -> list[dict[str, Any]]:
    """deploy (image, env, volumes) → start → run the job's command with its output streamed.

    The command runs in exec form (entry point + arguments, like a container's `command`);
    without a command the image's default program runs with the job's `args`.
    """
    deploy: dict[str, Any] = {"env": dict(spec.env)}
    if spec.volumes:
        deploy["volumes"] = {v.mount_path: {"storage": {"size": v.size}} for v in spec.volumes}
    run: dict[str, Any] = {
        "args": [*(spec.command or [])[1:], *(spec.args or [])],
        "capture": {"stdout": {"stream": {}}, "stderr": {"stream": {}}},
    }
    if spec.command:
        run["entry_point"] = spec.command[0]
    return [{"deploy": deploy}, {"start": {}}, {"run": run}]


def observe(event: dict[str, Any]) -> Observation | None:
    """One runtime event of the batch (SSE `data`) → Started, an Outcome, or None."""
    index, kind = event.get("index"), event.get("kind") or {}
    if index == RUN and "started" in kind:
        return Started()
    finished = kind.get("finished")
    if not isinstance(finished, dict):
        return None
    code = finished.get("return_code", finished.get("returnCode"))
    return finish(int(index or 0), None if code is None else int(code), finished.get("message"))


def observe_results(results: list[dict[str, Any]]) -> Outcome | None:
    """The batch's JSON results → its Outcome once a command failed or the run finished."""
    for result in results:
        index = int(result.get("index", 0))
        failed = result.get("result") == "Error"
        if failed or index == RUN:
            code = result.get("returnCode")
            if code is None:
                code = 1 if failed else 0
            outcome = finish(index, int(code), result.get("message"))
            if outcome is not None:
                return outcome
    return None


def finish(index: int, code: int | None, message: str | None) -> Outcome | None:
    """A finished command → the job's Outcome (None: the batch goes on)."""
    text = message or ""
    if index == DEPLOY and code:
        return Outcome("failed", f"image pull failed: {text or 'deploy failed'}")
    if index == START and code:
        return Outcome("failed", f"the VM did not start: {text or 'start failed'}")
    if index != RUN:
        return None
    if code == 0:
        return Outcome("completed", None, 0)
    if any(marker in text.lower() for marker in OOM_MARKERS):
        return Outcome("failed", "out of memory: the VM exceeded its memory", code)
    if code is None:
        return Outcome("failed", f"the command failed: {text}")
    return Outcome("failed", f"container exited with code {code}", code)
