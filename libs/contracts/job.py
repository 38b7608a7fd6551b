"""The job spec a user submits and the job object the API returns."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from contracts.quantities import QuantityError, parse_quantity

# docker reference grammar, simplified: [registry[:port]/]path[:tag][@digest], lowercase path.
_IMAGE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::\d+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VOLUME_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_IMAGE_LENGTH = 255


@dataclass(frozen=True)
class SpecLimits:
    """Deployment-specific limits, passed to validation as pydantic context."""

    # None: any network name (a spec already accepted at the gateway, read back internally).
    providers: frozenset[str] | None = frozenset({"akash"})
    max_cpu_millicores: int = 64_000
    max_duration_seconds: int = 30 * 24 * 3600
    max_gpu: int = 8
    max_env_vars: int = 256
    max_ports: int = 32
    max_volumes: int = 8
    max_args: int = 256


# Internal readers (provider services) re-parse specs the gateway already accepted under its
# own limits, which they do not know: only the shape is checked then.
ACCEPTED = SpecLimits(
    providers=None,
    max_cpu_millicores=2**31,
    max_duration_seconds=2**31,
    max_gpu=2**31,
    max_env_vars=2**31,
    max_ports=2**31,
    max_volumes=2**31,
    max_args=2**31,
)


def _limits(info: ValidationInfo) -> SpecLimits:
    context = info.context
    if isinstance(context, SpecLimits):
        return context
    return ACCEPTED


def _check_quantity(value: str) -> str:
    try:
        parse_quantity(value)
    except QuantityError as exc:
        raise ValueError(str(exc)) from None
    return value


class CamelModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class PortSpec(CamelModel):
    port: Annotated[StrictInt, Field(ge=1, le=65535)]
    expose: StrictBool = False
    protocol: Literal["TCP", "UDP"] = "TCP"


class VolumeSpec(CamelModel):
    name: StrictStr
    mount_path: StrictStr
    size: StrictStr

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _VOLUME_NAME.match(value):
            raise ValueError(
                "must be 1-63 lowercase letters, digits or '-', starting and ending alphanumeric"
            )
        return value

    @field_validator("mount_path")
    @classmethod
    def _mount_path(cls, value: str) -> str:
        if not value.startswith("/") or "\x00" in value or "/../" in f"{value}/":
            raise ValueError("must be an absolute path such as /data")
        return value

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        return _check_quantity(value)


class JobSpec(CamelModel):
    """What to run and where: every field of the seed's Create Job table, plus `gpu`."""

    provider: StrictStr
    image: StrictStr
    cpu: StrictInt
    memory: StrictStr
    storage: StrictStr
    duration: StrictInt
    env: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    ports: list[PortSpec] = Field(default_factory=list)
    volumes: list[VolumeSpec] = Field(default_factory=list)
    command: list[StrictStr] | None = None
    args: list[StrictStr] | None = None
    gpu: StrictInt | None = None

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: str, info: ValidationInfo) -> str:
        providers = _limits(info).providers
        if providers is not None and value not in providers:
            raise ValueError(f"must be one of: {', '.join(sorted(providers))}")
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if len(value) > MAX_IMAGE_LENGTH or not _IMAGE.match(value):
            raise ValueError(
                "must be an image reference such as 'nginx:alpine' or 'ghcr.io/org/app:1.2'"
            )
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int, info: ValidationInfo) -> int:
        maximum = _limits(info).max_cpu_millicores
        if not 1 <= value <= maximum:
            raise ValueError(f"must be an integer of millicores from 1 to {maximum}")
        return value

    @field_validator("memory", "storage")
    @classmethod
    def _quantity(cls, value: str) -> str:
        return _check_quantity(value)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: int, info: ValidationInfo) -> int:
        maximum = _limits(info).max_duration_seconds
        if not 1 <= value <= maximum:
            raise ValueError(f"must be an integer of seconds from 1 to {maximum}")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if len(value) > _limits(info).max_env_vars:
            raise ValueError(f"at most {_limits(info).max_env_vars} variables")
        bad = [key for key in value if not _ENV_KEY.match(key)]
        if bad:
            raise ValueError(f"names must match [A-Za-z_][A-Za-z0-9_]*: {', '.join(bad[:5])}")
        return value

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: list[PortSpec], info: ValidationInfo) -> list[PortSpec]:
        if len(value) > _limits(info).max_ports:
            raise ValueError(f"at most {_limits(info).max_ports} ports")
        seen = [(p.port, p.protocol) for p in value]
        if len(seen) != len(set(seen)):
            raise ValueError("each port and protocol may appear once")
        return value

    @field_validator("volumes")
    @classmethod
    def _volumes(cls, value: list[VolumeSpec], info: ValidationInfo) -> list[VolumeSpec]:
        if len(value) > _limits(info).max_volumes:
            raise ValueError(f"at most {_limits(info).max_volumes} volumes")
        if len({v.name for v in value}) != len(value):
            raise ValueError("volume names must be unique")
        if len({v.mount_path for v in value}) != len(value):
            raise ValueError("mount paths must be unique")
        return value

    @field_validator("command", "args")
    @classmethod
    def _argv(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is not None and len(value) > _limits(info).max_args:
            raise ValueError(f"at most {_limits(info).max_args} items")
        return value

    @field_validator("gpu")
    @classmethod
    def _gpu(cls, value: int | None, info: ValidationInfo) -> int | None:
        maximum = _limits(info).max_gpu
        if value is not None and not 0 <= value <= maximum:
            raise ValueError(f"must be an integer from 0 to {maximum}")
        return value

    @property
    def memory_bytes(self) -> int:
        return parse_quantity(self.memory)

    @property
    def storage_bytes(self) -> int:
        return parse_quantity(self.storage)

    def config(self) -> dict[str, Any]:
        """The job object's `config`: everything of the spec beyond the headline fields."""
        return self.model_dump(
            by_alias=True,
            include={"env", "ports", "volumes", "command", "args", "gpu"},
            exclude_none=True,
        )


def new_job_id() -> str:
    """`job_` and 20 hex digits: 80 random bits, so ids never collide in practice."""
    return f"job_{secrets.token_hex(10)}"
