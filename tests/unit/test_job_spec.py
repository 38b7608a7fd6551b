from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.errors import ApiError, ErrorCode
from contracts.job import JobSpec, SpecLimits
from contracts.validation import parse_model

VALID: dict[str, Any] = {
    "provider": "akash",
    "image": "nginx:alpine",
    "cpu": 1000,
    "memory": "512Mi",
    "storage": "1Gi",
    "duration": 3600,
}
LIMITS = SpecLimits(
    providers=frozenset({"akash"}), max_cpu_millicores=8000, max_duration_seconds=86400
)


def problems(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ApiError) as caught:
        parse_model(JobSpec, body, context=LIMITS)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    return {d["field"]: d["message"] for d in caught.value.details}


def test_seed_example_is_valid_and_config_keeps_the_extras() -> None:
    spec = parse_model(
        JobSpec,
        {**VALID, "env": {"DEBUG": "true"}, "ports": [{"port": 80, "expose": True}]},
        context=LIMITS,
    )
    assert spec.memory_bytes == 512 * 2**20
    assert spec.config() == {
        "env": {"DEBUG": "true"},
        "ports": [{"port": 80, "expose": True, "protocol": "TCP"}],
        "volumes": [],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("provider", "aws"),
        ("image", "Not An Image"),
        ("image", ""),
        ("cpu", 0),
        ("cpu", 9000),
        ("cpu", 1.5),
        ("cpu", "1000"),
        ("memory", "512MB"),
        ("memory", "0"),
        ("storage", "-1Gi"),
        ("duration", 0),
        ("duration", 86401),
        ("duration", True),
        ("env", {"1BAD": "x"}),
        ("env", {"GOOD": 1}),
        ("ports", [{"port": 0}]),
        ("ports", [{"port": 80, "protocol": "SCTP"}]),
        ("ports", [{"port": 80, "extra": 1}]),
        ("volumes", [{"name": "data", "mountPath": "relative", "size": "1Gi"}]),
        ("volumes", [{"name": "data", "mountPath": "/data", "size": "1GB"}]),
        ("command", "sh -c x"),
        ("args", [1, 2]),
        ("gpu", -1),
    ],
)
def test_each_bad_field_is_named(field: str, value: Any) -> None:
    found = problems({**VALID, field: value})
    assert any(
        name == field or name.startswith(f"{field}[") or name.startswith(f"{field}.")
        for name in found
    ), found


def test_missing_and_unknown_fields_are_named() -> None:
    body = {k: v for k, v in VALID.items() if k != "image"} | {"colour": "blue"}
    found = problems(body)
    assert found["image"] == "is required"
    assert found["colour"] == "is not a known field"


def test_duplicate_ports_and_volume_names_are_rejected() -> None:
    assert "ports" in problems({**VALID, "ports": [{"port": 80}, {"port": 80}]})
    volume = {"name": "data", "mountPath": "/a", "size": "1Gi"}
    assert "volumes" in problems({**VALID, "volumes": [volume, {**volume, "mountPath": "/b"}]})


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:alpine",
        "ghcr.io/org/app:1.2",
        "localhost:5000/a/b",
        "ubuntu@sha256:" + "a" * 64,
    ],
)
def test_image_references(image: str) -> None:
    assert parse_model(JobSpec, {**VALID, "image": image}, context=LIMITS).image == image


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
        st.text(max_size=5),
        max_size=5,
    )
)
def test_valid_env_names_are_accepted(env: dict[str, str]) -> None:
    assert parse_model(JobSpec, {**VALID, "env": env}, context=LIMITS).env == env
