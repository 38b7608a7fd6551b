"""Provider gateways (`/gateway/<provider>/lease/...`): lease status, logs and kubeevents."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeVar

import orjson
from aiohttp import WSCloseCode, web

from devnets.akash.console_api import NETWORK
from devnets.akash.http import ApiError, error_response, parse_int
from devnets.akash.lease_run import LeaseRun
from devnets.akash.tokens import TokenError, allows
from devnets.runner import LogLine

T = TypeVar("T")
PREFIX = "/gateway/{provider}/lease/{dseq}/{gseq}/{oseq}"
LEASE_NOT_FOUND = 4001  # provider websocket close codes
NO_RUNNING_PODS = 4000
# A slow reader: stop writing until the socket's send buffer is below this.
WRITE_BUFFER_LIMIT = 1 << 20


def add_routes(app: web.Application) -> None:
    """Register the gateway routes."""
    app.router.add_get(PREFIX + "/status", lease_status)
    app.router.add_get(PREFIX + "/logs", lease_logs)
    app.router.add_get(PREFIX + "/kubeevents", lease_events)
    app.router.add_get(PREFIX + "/usage", lease_usage)


async def lease_status(request: web.Request) -> web.Response:
    """GET .../status: services, replicas, URIs and forwarded ports."""
    provider, key = _authorize(request)
    run = request.app[NETWORK].find_run(provider, key)
    if run is None:
        return error_response(404, "lease not found")
    return web.json_response(run.status())


async def lease_usage(request: web.Request) -> web.Response:
    """GET .../usage (devnet extension; real providers have no such call): each running
    service's CPU since the previous call and its memory, measured on the real process."""
    provider, key = _authorize(request)
    run = request.app[NETWORK].find_run(provider, key)
    if run is None:
        return error_response(404, "lease not found")
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
    return web.json_response({"services": services})


async def lease_logs(request: web.Request) -> web.WebSocketResponse:
    """Websocket .../logs?follow=&tail=&service=: `{name, message}` per output line."""
    provider, key = _authorize(request)
    follow = _flag(request.query.get("follow"))
    tail = _tail(request.query.get("tail"))
    ws = web.WebSocketResponse(compress=False)  # frames written in batches: see _stream
    await ws.prepare(request)
    run = request.app[NETWORK].find_run(provider, key)
    if run is None:
        await ws.close(code=LEASE_NOT_FOUND, message=b"lease not found")
        return ws
    services = _services(run, request.query.get("service"))
    if all(run.workloads[s].failure_reason is not None for s in services):  # never pulled
        await ws.close(code=NO_RUNNING_PODS, message=b"no running pods")
        return ws
    sources = [_service_logs(run, name, follow, tail) for name in services]
    await _stream(ws, request, sources[0] if len(sources) == 1 else merge(sources))
    return ws


async def lease_events(request: web.Request) -> web.WebSocketResponse:
    """Websocket .../kubeevents?follow=&service=: the pods' Kubernetes events."""
    provider, key = _authorize(request)
    follow = _flag(request.query.get("follow"))
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    run = request.app[NETWORK].find_run(provider, key)
    if run is None:
        await ws.close(code=LEASE_NOT_FOUND, message=b"lease not found")
        return ws
    pods = {run.pods[name] for name in _services(run, request.query.get("service"))}

    async def events() -> AsyncIterator[list[dict[str, Any]]]:
        # Batches: a pod's events come in bursts (scheduled and pulling; pulled, created and
        # started), and a burst sent in one write costs the reader one wake-up.
        source = run.events.follow_batches() if follow else _iterate([run.events.after(0)])
        async for batch in source:
            items = [event.to_json() for event in batch if event.pod in pods]
            if items:
                yield items

    await _stream(ws, request, events())
    return ws


async def merge(sources: list[AsyncIterator[T]]) -> AsyncIterator[T]:
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


async def _service_logs(
    run: LeaseRun, service: str, follow: bool, tail: int
) -> AsyncIterator[list[dict[str, Any]]]:
    feed = run.workloads[service].logs
    from_seq = 0 if tail < 0 else max(0, feed.next_seq - 1 - tail)
    source: AsyncIterator[list[LogLine]] = (
        feed.follow_batches(from_seq) if follow else _iterate([feed.after(from_seq)])
    )
    pod = run.pods[service]
    async for lines in source:
        yield [{"name": pod, "message": line.line} for line in lines]


async def _stream(
    ws: web.WebSocketResponse, request: web.Request, batches: AsyncIterator[list[dict[str, Any]]]
) -> None:
    """Send items (one text frame each, as a provider does) until they end or the client
    goes away, then close normally."""

    async def send_all() -> None:
        transport = request.transport
        assert transport is not None
        async for items in batches:
            # One socket write per batch: a chatty workload's thousands of lines a second
            # would otherwise cost a system call each (compression is off, so a frame is
            # just a header and the JSON).
            transport.write(b"".join(_text_frame(orjson.dumps(item)) for item in items))
            while transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
                if transport.is_closing():
                    return
                await asyncio.sleep(0.01)

    async def until_client_closes() -> None:
        async for _ in ws:
            pass

    sender = asyncio.create_task(send_all())
    watcher = asyncio.create_task(until_client_closes())
    await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in (sender, watcher):
        task.cancel()
    await asyncio.gather(sender, watcher, return_exceptions=True)
    with contextlib.suppress(ConnectionError):
        await ws.close(code=WSCloseCode.OK)


def _text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455 5.2): what a server sends."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


async def _iterate(items: Iterable[T]) -> AsyncIterator[T]:
    for item in items:
        yield item


def _authorize(request: web.Request) -> tuple[str, tuple[int, int, int]]:
    network = request.app[NETWORK]
    provider = request.match_info["provider"]
    network.provider(provider)  # 404 for an unknown gateway
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        claims = network.tokens.verify(token) if scheme.lower() == "bearer" else None
    except TokenError as exc:
        raise ApiError(401, str(exc)) from None
    if claims is None or not allows(claims, provider):
        raise ApiError(401, "a bearer token from /v1/create-jwt-token is required")
    key = tuple(parse_int(request.match_info[part], part) for part in ("dseq", "gseq", "oseq"))
    return provider, (key[0], key[1], key[2])


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
