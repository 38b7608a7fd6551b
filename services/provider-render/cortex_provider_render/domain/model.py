"""What Render knows a job by, which plan runs it, and the command it runs."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from contracts.job import JobSpec
from contracts.reports import InstanceType
from cortex_provider_render.settings import Plan

MIB = 1024 * 1024
_EXIT_LINE = re.compile(r"Exited with status (\d+)\s*$")


@dataclass
class RenderHandle:
    """The base service, its deploy and the one-off job, kept in `Deployment.handle`.

    `creating_service` / `creating_job` are saved before the create calls: a create whose answer
    was lost is then found (by the service's name, or as the service's only job) instead of
    being left running and billed.
    """

    service_id: str | None = None
    deploy_id: str | None = None
    job_id: str | None = None
    plan: str | None = None
    suspended: bool = False
    creating_service: bool = False
    creating_job: bool = False

    @classmethod
    def of(cls, handle: dict[str, Any]) -> RenderHandle:
        return cls(**{k: v for k, v in handle.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in (None, False)}


def service_name(job_id: str) -> str:
    """One base service per Cortex job, named after it (unique in the workspace)."""
    return f"cortex-{job_id}"


def instance_types(plans: list[Plan], hours_per_month: float) -> list[InstanceType]:
    return [
        InstanceType(
            id=p.id,
            cpu_millicores=int(p.cpu * 1000),
            memory_bytes=p.memory_mb * MIB,
            usd_per_hour=p.usd_per_month / hours_per_month,
        )
        for p in plans
    ]


def smallest_plan(spec: JobSpec, types: list[InstanceType]) -> InstanceType | None:
    """The cheapest plan covering both the job's CPU and memory."""
    fitting = [t for t in types if t.fits(spec)]
    return min(fitting, key=lambda t: t.usd_per_hour) if fitting else None


def start_command(spec: JobSpec) -> str:
    """`command` + `args` as the one shell-quoted `startCommand` a Render job takes."""
    return shlex.join([*(spec.command or []), *(spec.args or [])])


def unsupported(spec: JobSpec, types: list[InstanceType]) -> str | None:
    """Why Render can never run `spec` as a one-off job, or None."""
    if spec.gpu:
        return "Render offers no GPU instance types"
    if spec.volumes:
        return "Render one-off jobs cannot mount volumes (disks attach to long-running services)"
    if any(p.expose for p in spec.ports or []):
        return "Render one-off jobs cannot expose ports"
    if not spec.command:
        return "Render one-off jobs run a start command: give the job a `command`"
    if smallest_plan(spec, types) is None:
        largest = max(types, key=lambda t: (t.cpu_millicores, t.memory_bytes))
        return (
            f"no Render plan has {spec.cpu}m CPU and {spec.memory} memory "
            f"(largest: {largest.id}, {largest.cpu_millicores}m, {largest.memory_bytes // MIB} MiB)"
        )
    return None


def exit_code_in(message: str) -> int | None:
    """`==> Exited with status 3` → 3 (Render's job object has no exit code field)."""
    match = _EXIT_LINE.search(message)
    return int(match.group(1)) if match else None


def linear_rates(types: list[InstanceType]) -> tuple[float, float]:
    """USD per core-hour and per GB-hour of memory that best fit the plans' prices
    (least squares, no intercept): a comparison with per-resource networks, not a bill."""
    xs = [(t.cpu_millicores / 1000, t.memory_bytes / 1e9, t.usd_per_hour) for t in types]
    scc = sum(c * c for c, _, _ in xs)
    smm = sum(m * m for _, m, _ in xs)
    scm = sum(c * m for c, m, _ in xs)
    scy = sum(c * y for c, _, y in xs)
    smy = sum(m * y for _, m, y in xs)
    det = scc * smm - scm * scm
    if not types or abs(det) < 1e-12:
        return 0.0, 0.0
    cpu, memory = (scy * smm - smy * scm) / det, (smy * scc - scy * scm) / det
    return max(cpu, 0.0), max(memory, 0.0)


# Render's own lines in a job's log (exit status, cancel, lost instance, out of memory).
_SYSTEM_LINE = re.compile(
    r"^==> (Exited with status \d+|Job canceled|Instance lost: .*|Out of memory: .*"
    r"|Job could not run: .*)$"
)


def log_stream(message: str, level: str | None) -> str:
    """`system` for Render's own lines, else stderr (level error) or stdout."""
    if _SYSTEM_LINE.match(message):
        return "system"
    return "stderr" if level == "error" else "stdout"
