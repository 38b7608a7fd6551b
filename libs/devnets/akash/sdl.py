"""Parses the subset of Akash SDL v2.0 the devnet runs (services, compute profiles, pricing)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


UNITS = {
    "": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}
QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]{0,2})\s*$")


class SdlError(ValueError):
    """The SDL is not valid; the message says where."""


@dataclass(frozen=True)
class Expose:
    """One `expose` entry: container `port`, published `as`, reachable globally or not."""

    port: int
    as_port: int
    proto: Literal["TCP", "UDP"]
    is_global: bool


@dataclass(frozen=True)
class Service:
    """A service placed in a group, with its compute profile resolved."""

    name: str
    image: str
    command: list[str] | None
    args: list[str] | None
    env: dict[str, str]
    expose: list[Expose]
    cpu_millicores: int
    memory_bytes: int
    storage_bytes: int
    count: int


@dataclass(frozen=True)
class Group:
    """A placement group: one order (oseq 1) that providers bid on as a whole."""

    name: str
    services: list[Service]
    denom: str
    max_price: Decimal  # per block, sum over services x count

    # Cached (parse_sdl hands out the same groups for every deployment of one SDL): bids
    # and capacity checks read them several times per deployment.
    @functools.cached_property
    def cpu_millicores(self) -> int:
        """Total CPU requested by the group."""
        return sum(s.cpu_millicores * s.count for s in self.services)

    @functools.cached_property
    def memory_bytes(self) -> int:
        """Total memory requested by the group."""
        return sum(s.memory_bytes * s.count for s in self.services)

    @functools.cached_property
    def storage_bytes(self) -> int:
        """Total storage requested by the group."""
        return sum(s.storage_bytes * s.count for s in self.services)


@functools.lru_cache(maxsize=256)
def parse_sdl(text: str) -> list[Group]:
    """Parse SDL YAML into placement groups (ordered by name, which fixes gseq 1, 2, ...).

    Cached: a batch deploys one SDL a thousand times, and the groups are never changed.
    """
    try:
        doc = yaml.load(text, Loader=_LOADER)  # libyaml when available: much faster
    except yaml.YAMLError as exc:
        raise SdlError(f"SDL is not valid YAML: {exc}") from exc
    root = _mapping(doc, "SDL")
    if str(root.get("version", "")) not in ("2.0", "2.1"):
        raise SdlError('SDL version must be "2.0"')
    services = _mapping(root.get("services"), "services")
    profiles = _mapping(root.get("profiles"), "profiles")
    compute = _mapping(profiles.get("compute"), "profiles.compute")
    placement = _mapping(profiles.get("placement"), "profiles.placement")
    deployment = _mapping(root.get("deployment"), "deployment")
    placed: dict[str, list[tuple[Service, Decimal, str]]] = {}
    for svc_name, targets in deployment.items():
        svc = _mapping(services.get(svc_name), f"services.{svc_name}")
        for group_name, target in _mapping(targets, f"deployment.{svc_name}").items():
            entry = _place(str(svc_name), svc, str(group_name), target, compute, placement)
            placed.setdefault(str(group_name), []).append(entry)
    if not placed:
        raise SdlError("deployment must place at least one service")
    return [_group(name, placed[name]) for name in sorted(placed)]


def _place(
    svc_name: str,
    svc: dict[str, Any],
    group_name: str,
    target: Any,
    compute: dict[str, Any],
    placement: dict[str, Any],
) -> tuple[Service, Decimal, str]:
    where = f"deployment.{svc_name}.{group_name}"
    target = _mapping(target, where)
    profile_name = str(target.get("profile", ""))
    profile = _mapping(compute.get(profile_name), f"profiles.compute.{profile_name}")
    count = target.get("count", 1)
    if not isinstance(count, int) or count != 1:
        raise SdlError(f"{where}.count: the devnet runs exactly one replica (count: 1)")
    group = _mapping(placement.get(group_name), f"profiles.placement.{group_name}")
    pricing = _mapping(group.get("pricing"), f"profiles.placement.{group_name}.pricing")
    price = _mapping(
        pricing.get(profile_name), f"profiles.placement.{group_name}.pricing.{profile_name}"
    )
    resources = _mapping(profile.get("resources"), f"profiles.compute.{profile_name}.resources")
    service = Service(
        name=svc_name,
        image=_image(svc, svc_name),
        command=_str_list(svc.get("command"), f"services.{svc_name}.command"),
        args=_str_list(svc.get("args"), f"services.{svc_name}.args"),
        env=_env(svc.get("env"), svc_name),
        expose=[_expose(item, svc_name) for item in svc.get("expose") or []],
        cpu_millicores=_cpu(resources.get("cpu"), profile_name),
        memory_bytes=_memory(resources.get("memory"), profile_name),
        storage_bytes=_storage(resources.get("storage"), profile_name),
        count=count,
    )
    denom = str(price.get("denom", ""))
    if not denom:
        raise SdlError(f"profiles.placement.{group_name}.pricing.{profile_name}.denom is required")
    return service, _decimal(price.get("amount"), f"pricing.{profile_name}.amount"), denom


def _group(name: str, entries: list[tuple[Service, Decimal, str]]) -> Group:
    denoms = {denom for _, _, denom in entries}
    if len(denoms) != 1:
        raise SdlError(f"placement group {name} mixes pricing denoms {sorted(denoms)}")
    total = sum((amount * svc.count for svc, amount, _ in entries), Decimal(0))
    return Group(
        name=name, services=[s for s, _, _ in entries], denom=denoms.pop(), max_price=total
    )


def _image(svc: dict[str, Any], name: str) -> str:
    image = svc.get("image")
    if not isinstance(image, str) or not image.strip():
        raise SdlError(f"services.{name}.image is required")
    return image.strip()


def _expose(item: Any, svc: str) -> Expose:
    entry = _mapping(item, f"services.{svc}.expose[]")
    port = _port(entry.get("port"), f"services.{svc}.expose[].port")
    as_port = _port(entry.get("as", port), f"services.{svc}.expose[].as")
    proto = str(entry.get("proto", "tcp")).upper()
    if proto not in ("TCP", "UDP"):
        raise SdlError(f"services.{svc}.expose[].proto must be tcp or udp")
    targets = entry.get("to") or []
    is_global = any(isinstance(t, dict) and t.get("global") is True for t in targets)
    return Expose(
        port=port, as_port=as_port, proto="TCP" if proto == "TCP" else "UDP", is_global=is_global
    )


def _env(value: Any, svc: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in _str_list(value, f"services.{svc}.env") or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise SdlError(f"services.{svc}.env entries must be KEY=value, got {item!r}")
        env[key] = val
    return env


def _cpu(value: Any, profile: str) -> int:
    units = _mapping(value, f"profiles.compute.{profile}.resources.cpu").get("units")
    text = str(units).strip()
    millicores = (
        _decimal(text[:-1], "cpu.units")
        if text.endswith("m")
        else _decimal(text, "cpu.units") * 1000
    )
    if millicores <= 0:
        raise SdlError(f"profiles.compute.{profile}.resources.cpu.units must be positive")
    return int(millicores)


def _memory(value: Any, profile: str) -> int:
    size = _mapping(value, f"profiles.compute.{profile}.resources.memory").get("size")
    return parse_size(size, f"profiles.compute.{profile}.resources.memory.size")


def _storage(value: Any, profile: str) -> int:
    where = f"profiles.compute.{profile}.resources.storage"
    items = value if isinstance(value, list) else [value] if value is not None else []
    return sum(parse_size(_mapping(item, where).get("size"), f"{where}.size") for item in items)


def parse_size(value: Any, where: str) -> int:
    """Bytes from an SDL size such as `512Mi`, `1Gi`, `500M` or a plain number."""
    match = QUANTITY.match(str(value)) if value is not None else None
    unit = match.group(2).lower() if match else ""
    if not match or unit not in UNITS:
        raise SdlError(f"{where}: invalid size {value!r}")
    size = int(Decimal(match.group(1)) * UNITS[unit])
    if size <= 0:
        raise SdlError(f"{where} must be positive")
    return size


def _port(value: Any, where: str) -> int:
    if not isinstance(value, int) or not 0 < value < 65536:
        raise SdlError(f"{where} must be a port number 1-65535, got {value!r}")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise SdlError(f"{where}: not a number: {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise SdlError(f"{where}: not a non-negative number: {value!r}")
    return number


def _str_list(value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise SdlError(f"{where} must be a list of strings")
    return [str(v) for v in value]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SdlError(f"{where} must be a mapping")
    return value
