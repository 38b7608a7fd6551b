"""What a provider's gateway (`/gateway/<provider>/lease/...`) answers: lease status and usage,
and the items its logs and kubeevents websockets send. No transport here: the gateway's own
server (`gateway_server`) speaks HTTP and RFC 6455 around these."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from devnets.akash.http import ApiError, parse_int
from devnets.akash.lease_run import LeaseRun
from devnets.akash.network import AkashNetwork
from devnets.akash.tokens import TokenError, allows
from devnets.runner import LogLine

T = TypeVar("T")
Batches = AsyncGenerator[list[dict[str, Any]], None]
LEASE_NOT_FOUND = 4001  # provider websocket close codes
NO_RUNNING_PODS = 4000


@dataclass(frozen=True)
class LeaseRequest:
    """A gateway request's lease path (`/gateway/<provider>/lease/<dseq>/<gseq>/<oseq>/...`)."""

    provider: str
    dseq: str
    gseq: str
    oseq: str


@dataclass(frozen=True)
class Refusal:
    """A websocket session that ends at once with a provider close code."""

    code: int
    reason: str


def authorize(
    network: AkashNetwork, lease: LeaseRequest, authorization: str
) -> tuple[int, int, int]:
    """The lease key, if the bearer token allows this provider; ApiError / NotFound if not."""
    network.provider(lease.provider)  # 404 for an unknown gateway
    scheme, _, token = authorization.partition(" ")
    try:
        claims = network.tokens.verify(token) if scheme.lower() == "bearer" else None
    except TokenError as exc:
        raise ApiError(401, str(exc)) from None
    if claims is None or not allows(claims, lease.provider):
        raise ApiError(401, "a bearer token from /v1/create-jwt-token is required")
    parts = (lease.dseq, "dseq"), (lease.gseq, "gseq"), (lease.oseq, "oseq")
    dseq, gseq, oseq = (parse_int(value, name) for value, name in parts)
    return dseq, gseq, oseq


def lease_status(run: LeaseRun) -> dict[str, Any]:
    """GET .../status: services, replicas, URIs and forwarded ports."""
    return run.status()


def lease_usage(run: LeaseRun) -> dict[str, Any]:
    """GET .../usage (devnet extension; real providers have no such call): each running
    service's CPU since the previous call and its memory, measured on the real process."""
    services: dict[str, Any] = {}
    for name, workload in run.workloads.items():
        if workload.state == "running":
            u = workload.usage()
            services[name] = {
                "cpuMillicores": u.cpu_millicores,
                "memoryBytes": u.memory_bytes,
                "rxBytes": None,  # the runner cannot measure a process's network bytes
                "txBytes": None,
            }
    return {"services": services}


def lease_logs(run: LeaseRun | None, query: Mapping[str, str]) -> Batches | Refusal:
    """Websocket .../logs?follow=&tail=&service=: `{name, message}` per output line."""
    follow = _flag(query.get("follow"))
    tail = _tail(query.get("tail"))
    if run is None:
        return Refusal(LEASE_NOT_FOUND, "lease not found")
    services = _services(run, query.get("service"))
    if all(run.workloads[s].failure_reason is not None for s in services):  # never pulled
        return Refusal(NO_RUNNING_PODS, "no running pods")
    sources = [_service_logs(run, name, follow, tail) for name in services]
    return sources[0] if len(sources) == 1 else merge(sources)


def lease_events(run: LeaseRun | None, query: Mapping[str, str]) -> Batches | Refusal:
    """Websocket .../kubeevents?follow=&service=: the pods' Kubernetes events."""
    follow = _flag(query.get("follow"))
    if run is None:
        return Refusal(LEASE_NOT_FOUND, "lease not found")
    pods = {run.pods[name] for name in _services(run, query.get("service"))}

    async def events() -> Batches:
        # Batches: a pod's events come in bursts (scheduled and pulling; pulled, created and
        # started), and a burst sent in one write costs the reader one wake-up.
        source = run.events.follow_batches() if follow else _iterate([run.events.after(0)])
        async for batch in source:
            items = [event.to_json() for event in batch if event.pod in pods]
            if items:
                yield items

    return events()


async def merge(sources: Sequence[AsyncIterator[T]]) -> AsyncGenerator[T, None]:
    """Interleave several async iterators as items arrive; ends when all have ended."""
    queue: asyncio.Queue[tuple[bool, T | None]] = asyncio.Queue()

    async def pump(source: AsyncIterator[T]) -> None:
        try:
            async for item in source:
                queue.put_nowait((False, item))
        finally:
            queue.put_nowait((True, None))

    tasks = [asyncio.create_task(pump(source)) for source in sources]
    try:
        remaining = len(tasks)
        while remaining:
            ended, item = await queue.get()
            if ended:
                remaining -= 1
            else:
                yield item  # type: ignore[misc]  # not None: only end markers carry None
    finally:
        for task in tasks:
            task.cancel()


async def _service_logs(run: LeaseRun, service: str, follow: bool, tail: int) -> Batches:
    feed = run.workloads[service].logs
    from_seq = 0 if tail < 0 else max(0, feed.next_seq - 1 - tail)
    source: AsyncIterator[list[LogLine]] = (
        feed.follow_batches(from_seq) if follow else _iterate([feed.after(from_seq)])
    )
    pod = run.pods[service]
    async for lines in source:
        yield [{"name": pod, "message": line.line} for line in lines]


async def _iterate(items: Iterable[T]) -> AsyncIterator[T]:
    for item in items:
        yield item


def _services(run: LeaseRun, selector: str | None) -> list[str]:
    names = [s.strip() for s in (selector or "").split(",") if s.strip()]
    unknown = [name for name in names if name not in run.workloads]
    if unknown:
        return []
    return names or list(run.workloads)


def _tail(value: str | None) -> int:
    try:
        return int(value) if value is not None else -1
    except ValueError:
        raise ApiError(400, f"tail must be an integer, got {value!r}") from None


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")
