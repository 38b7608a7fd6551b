from __future__ import annotations

from typing import Any

import pytest

from contracts.job import JobSpec
from contracts.reports import NetworkPrice
from cortex_provider_render.domain.model import (
    RenderHandle,
    exit_code_in,
    instance_types,
    linear_rates,
    smallest_plan,
    start_command,
    unsupported,
)
from cortex_provider_render.settings import DEFAULT_PLANS

TYPES = instance_types(DEFAULT_PLANS, 730.0)
BASE: dict[str, Any] = {
    "provider": "render",
    "image": "alpine:3.20",
    "cpu": 250,
    "memory": "64Mi",
    "storage": "1Gi",
    "duration": 60,
    "command": ["true"],
}


def spec(**changes: Any) -> JobSpec:
    return JobSpec.model_validate({**BASE, **changes})


@pytest.mark.parametrize(
    ("cpu", "memory", "plan"),
    [
        (250, "64Mi", "starter"),
        (500, "512Mi", "starter"),
        (501, "64Mi", "standard"),
        (1000, "3Gi", "pro"),
        (4000, "9Gi", "pro_max"),
        (8000, "32Gi", "pro_ultra"),
    ],
)
def test_the_smallest_plan_covering_cpu_and_memory_is_chosen(
    cpu: int, memory: str, plan: str
) -> None:
    chosen = smallest_plan(spec(cpu=cpu, memory=memory), TYPES)
    assert chosen is not None and chosen.id == plan


def test_a_job_larger_than_every_plan_is_refused_naming_the_largest() -> None:
    reason = unsupported(spec(cpu=16000), TYPES)
    assert reason is not None and "pro_ultra" in reason


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"gpu": 1}, "GPU"),
        ({"volumes": [{"name": "data", "mountPath": "/data", "size": "1Gi"}]}, "volumes"),
        ({"ports": [{"port": 80, "expose": True}]}, "ports"),
        ({"command": None}, "command"),
    ],
)
def test_what_one_off_jobs_cannot_do_is_refused_with_the_reason(
    changes: dict[str, Any], words: str
) -> None:
    reason = unsupported(spec(**changes), TYPES)
    assert reason is not None and words in reason


def test_command_and_args_become_one_shell_quoted_start_command() -> None:
    job = spec(command=["sh", "-c"], args=["echo 'a b'; exit 3"])
    assert start_command(job) == "sh -c 'echo '\"'\"'a b'\"'\"'; exit 3'"


@pytest.mark.parametrize(
    ("line", "code"),
    [("==> Exited with status 3", 3), ("==> Exited with status 0", 0), ("hello", None)],
)
def test_the_exit_code_is_read_from_the_exit_status_line(line: str, code: int | None) -> None:
    assert exit_code_in(line) == code


def test_linear_rates_reproduce_plan_prices_roughly_and_projected_cost_uses_the_plan() -> None:
    cpu, memory = linear_rates(TYPES)
    assert cpu > 0 and memory > 0
    for plan in (t for t in TYPES if t.cpu_millicores >= 2000):  # the fit follows big plans
        fitted = cpu * plan.cpu_millicores / 1000 + memory * plan.memory_bytes / 1e9
        assert abs(fitted - plan.usd_per_hour) / plan.usd_per_hour < 0.05, plan.id
    standard = next(t for t in TYPES if t.id == "standard")
    price = NetworkPrice(
        network="render",
        cpu_core_hour=cpu,
        memory_gb_hour=memory,
        storage_gb_hour=0,
        instance_types=TYPES,
        updated_at="2026-11-29T00:00:00Z",
    )
    assert price.hourly_usd(spec(cpu=1000, memory="1Gi")) == standard.usd_per_hour


def test_the_handle_round_trips_and_drops_empty_fields() -> None:
    handle = RenderHandle(service_id="srv-1", creating_job=True)
    assert handle.to_dict() == {"service_id": "srv-1", "creating_job": True}
    assert RenderHandle.of({**handle.to_dict(), "unknown": 1}) == handle
