"""Job spec → Akash SDL v2.0 (one service `app`, one placement group `dcloud`)."""

from __future__ import annotations

import functools
from typing import Any

import yaml

from contracts.job import JobSpec

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

SERVICE = "app"
GROUP = "dcloud"


def build_sdl(spec: JobSpec, max_price: int, denom: str) -> str:
    service: dict[str, Any] = {"image": spec.image}
    if spec.command:
        service["command"] = list(spec.command)
    if spec.args:
        service["args"] = list(spec.args)
    if spec.env:
        service["env"] = [f"{k}={v}" for k, v in spec.env.items()]
    if spec.ports:
        service["expose"] = [
            {
                "port": p.port,
                "as": p.port,
                "proto": p.protocol.lower(),
                "to": [{"global": True}] if p.expose else [{"service": SERVICE}],
            }
            for p in spec.ports
        ]
    storage: list[dict[str, Any]] = [{"size": spec.storage}]
    if spec.volumes:
        # Akash supports one persistent volume per service; more is refused before any call.
        volume = spec.volumes[0]
        storage.append(
            {
                "name": volume.name,
                "size": volume.size,
                "attributes": {"persistent": True, "class": "beta2"},
            }
        )
        service["params"] = {
            "storage": {volume.name: {"mount": volume.mount_path, "readOnly": False}}
        }
    resources: dict[str, Any] = {
        "cpu": {"units": spec.cpu / 1000},
        "memory": {"size": spec.memory},
        "storage": storage,
    }
    if spec.gpu:
        resources["gpu"] = {"units": spec.gpu}
    sdl = {
        "version": "2.0",
        "services": {SERVICE: service},
        "profiles": {
            "compute": {SERVICE: {"resources": resources}},
            "placement": {GROUP: {"pricing": {SERVICE: {"denom": denom, "amount": max_price}}}},
        },
        "deployment": {SERVICE: {GROUP: {"profile": SERVICE, "count": 1}}},
    }
    # libyaml's emitter where PyYAML has it (its wheels do): the pure-Python one dominated
    # provider-akash's CPU when deploying many jobs.
    return yaml.dump(sdl, Dumper=_DUMPER, sort_keys=False)


@functools.lru_cache(maxsize=128)
def cached_sdl(spec_json: str, max_price: int, denom: str) -> str:
    """`build_sdl` of a spec given as JSON, remembered: a batch deploys one spec many times."""
    return build_sdl(JobSpec.model_validate_json(spec_json), max_price, denom)


def unsupported(spec: JobSpec) -> str | None:
    """Why Akash cannot take this spec at all, or None."""
    if len(spec.volumes) > 1:
        return "Akash supports one persistent volume per service"
    return None
