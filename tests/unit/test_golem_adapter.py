"""The Golem adapter's pure parts: price model, image mapping, demand, exe-script, outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.job import JobSpec
from cortex_provider_golem.domain import demand, script
from cortex_provider_golem.domain.images import task_package
from cortex_provider_golem.domain.model import GolemHandle
from cortex_provider_golem.domain.pricing import CPU_SEC, DURATION_SEC, LinearPrice, PriceError
from devnets.golem import constraints as devnet_constraints
from devnets.golem.offers import offer_constraints, offer_properties
from devnets.golem.packages import resolve_package
from devnets.golem.settings import default_providers
from provider_runtime.model import Outcome
from provider_runtime.network import Started

REGISTRY = "http://registry.golem.network/v1/image/download"


def spec(**overrides: Any) -> JobSpec:
    base = {
        "provider": "golem",
        "image": "alpine:3.20",
        "cpu": 1500,
        "memory": "512Mi",
        "storage": "2Gi",
        "duration": 600,
    }
    return JobSpec.model_validate({**base, **overrides})


# --- price model ---


def test_coefficients_are_found_by_name_whatever_their_order() -> None:
    duration_first = {
        "golem.com.pricing.model": "linear",
        "golem.com.usage.vector": [DURATION_SEC, CPU_SEC],
        "golem.com.pricing.model.linear.coeffs": [0.00002, 0.0001, 0.0],
    }
    cpu_first = {
        **duration_first,
        "golem.com.usage.vector": [CPU_SEC, DURATION_SEC],
        "golem.com.pricing.model.linear.coeffs": [0.0001, 0.00002, 0.0],
    }
    assert LinearPrice.of_offer(duration_first) == LinearPrice.of_offer(cpu_first)
    assert LinearPrice.of_offer(cpu_first) == LinearPrice(env_sec=0.00002, cpu_sec=0.0001, start=0)


def test_the_briefs_example_two_busy_threads_for_an_hour() -> None:
    price = LinearPrice(env_sec=0.00002, cpu_sec=0.0001, start=0.0)
    assert price.estimate_glm(3600, 2) == pytest.approx(0.792)
    assert price.hourly_glm(2) * 0.25 == pytest.approx(0.198)  # ≈ $0.20/hour at $0.25/GLM


def test_every_devnet_provider_is_priced_from_its_offer() -> None:
    for provider in default_providers():
        price = LinearPrice.of_offer(offer_properties(provider, "erc20-polygon-glm"))
        assert price.cpu_sec == float(provider.cpu_sec_price)
        assert price.env_sec == float(provider.env_sec_price)
        assert price.start == float(provider.start_price)


@pytest.mark.parametrize(
    "props",
    [
        {"golem.com.pricing.model": "fixed"},
        {"golem.com.usage.vector": [CPU_SEC], "golem.com.pricing.model.linear.coeffs": [1.0]},
        {
            "golem.com.usage.vector": ["golem.usage.gib_sec"],
            "golem.com.pricing.model.linear.coeffs": [0.1, 0.0],
        },
    ],
)
def test_offers_we_cannot_price_are_refused(props: dict[str, Any]) -> None:
    with pytest.raises(PriceError):
        LinearPrice.of_offer(props)


def test_nested_properties_are_read_too() -> None:
    nested = {
        "golem": {
            "com": {
                "usage": {"vector": [CPU_SEC]},
                "pricing": {"model": {"@tag": "linear", "linear": {"coeffs": [0.5, 0.1]}}},
            }
        }
    }
    assert LinearPrice.of_offer(nested) == LinearPrice(env_sec=0.0, cpu_sec=0.5, start=0.1)


# --- images ---


def test_an_image_maps_to_a_package_the_devnet_resolves_back() -> None:
    package = task_package("alpine:3.20", {}, REGISTRY)
    assert package.startswith("hash:sha3:") and package.endswith("?tag=alpine:3.20")
    assert len(package.split(":")[2]) == 56  # sha3-224 in hex
    assert resolve_package(package) == "alpine:3.20"


def test_configured_images_map_to_a_tag_or_a_full_package() -> None:
    images = {
        "myorg/app:1": "golem/alpine:latest",
        "myorg/tool:2": "hash:sha3:abc:https://example.org/tool.gvmi",
    }
    assert resolve_package(task_package("myorg/app:1", images, REGISTRY)) == "alpine:latest"
    assert task_package("myorg/tool:2", images, REGISTRY) == images["myorg/tool:2"]


# --- demand ---


def test_requirements_round_up_to_what_the_job_asked_for() -> None:
    req = demand.Requirements.of(spec(cpu=1500, memory="512Mi", storage="1G"))
    assert (req.threads, req.cores) == (2, 1)
    assert req.memory_gib == 0.5
    assert req.storage_gib == pytest.approx(0.932)  # 10⁹ bytes rounded up to 1/1000 GiB
    assert demand.Requirements.of(spec(cpu=1)).threads == 1


def test_constraints_select_offers_that_are_big_enough() -> None:
    text = demand.constraints(demand.Requirements.of(spec(cpu=6000, memory="10Gi")))
    filters = devnet_constraints.parse_all(text)
    fits = {
        p.name
        for p in default_providers()
        if devnet_constraints.satisfied(filters, offer_properties(p, "erc20-polygon-glm"))
    }
    assert fits == {"devnet-middle", "devnet-premium"}  # 8+ threads and 16+ GiB


def test_the_demand_meets_the_providers_constraints_and_carries_payment_decorations() -> None:
    terms = demand.DemandTerms("public", 1_900_000_000_000, 120, 240, 120)
    props = demand.properties(task_package("alpine:3.20", {}, REGISTRY), terms, "job-1")
    decorations = {
        "properties": [{"key": "golem.com.payment.platform.x.address", "value": "0xab"}],
        "constraints": ["(golem.com.payment.platform.x.address=*)"],
    }
    merged, text = demand.decorate(props, "(&(golem.runtime.name=vm))", decorations)
    assert merged["golem.com.payment.platform.x.address"] == "0xab"
    assert merged[demand.JOB_PROPERTY] == "job-1"
    assert text == "(&(golem.runtime.name=vm)(golem.com.payment.platform.x.address=*))"
    provider = default_providers()[0]
    theirs = devnet_constraints.parse_all(offer_constraints(provider))
    assert devnet_constraints.satisfied(theirs, merged)


# --- exe-script and what its events mean ---


def test_the_script_deploys_starts_and_runs_the_command_in_exec_form() -> None:
    commands = script.exe_script(spec(env={"A": "1"}, command=["sh", "-c"], args=["echo $A"]))
    assert [next(iter(c)) for c in commands] == ["deploy", "start", "run"]
    assert commands[0]["deploy"]["env"] == {"A": "1"}
    run = commands[2]["run"]
    assert run["entry_point"] == "sh" and run["args"] == ["-c", "echo $A"]
    no_command = script.exe_script(spec(args=["--help"]))[2]["run"]
    assert "entry_point" not in no_command and no_command["args"] == ["--help"]


def event(index: int, kind: dict[str, Any]) -> dict[str, Any]:
    return {"batch_id": "b", "index": index, "timestamp": "t", "kind": kind}


def test_runtime_events_become_observations() -> None:
    assert script.observe(event(0, {"started": {}})) is None
    assert script.observe(event(0, {"finished": {"return_code": 0}})) is None
    assert script.observe(event(2, {"started": {"command": {}}})) == Started()
    assert script.observe(event(2, {"stdout": "hi\n"})) is None
    assert script.observe(event(2, {"finished": {"return_code": 0}})) == Outcome(
        "completed", None, 0
    )
    assert script.observe(event(2, {"finished": {"returnCode": 3, "message": "x"}})) == Outcome(
        "failed", "container exited with code 3", 3
    )
    pull = script.observe(
        event(0, {"finished": {"return_code": 1, "message": "Deploy failed: no such host"}})
    )
    assert pull == Outcome("failed", "image pull failed: Deploy failed: no such host")
    oom = script.observe(
        event(2, {"finished": {"return_code": 1, "message": "exited: out of memory (1 GiB)"}})
    )
    assert isinstance(oom, Outcome) and oom.reason and oom.reason.startswith("out of memory")


def test_batch_results_give_the_outcome_when_the_stream_was_missed() -> None:
    ok = [{"index": 0, "result": "Ok"}, {"index": 1, "result": "Ok"}]
    assert script.observe_results(ok) is None
    done = [*ok, {"index": 2, "result": "Ok", "returnCode": 0, "isBatchFinished": True}]
    assert script.observe_results(done) == Outcome("completed", None, 0)
    failed = [{"index": 0, "result": "Error", "message": "Deploy failed: hash mismatch"}]
    assert script.observe_results(failed) == Outcome(
        "failed", "image pull failed: Deploy failed: hash mismatch"
    )


def test_the_handle_round_trips_and_drops_empty_fields() -> None:
    handle = GolemHandle(allocation_id="a", allocation_marker="m", demand_pending=True)
    assert handle.to_dict() == {
        "allocation_id": "a",
        "allocation_marker": "m",
        "demand_pending": True,
    }
    assert GolemHandle.of({**handle.to_dict(), "unknown": 1}) == handle
