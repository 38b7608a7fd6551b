"""`GET /jobs/:id/logs` (JSON or, with follow=true, Server-Sent Events) and `/output`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.telemetry import record_time
from contracts.timefmt import parse_time
from cortex_gateway.context import GatewayContext, require
from cortex_gateway.follow import Event, Follower, sse_event
from cortex_gateway.responses import ok, validation
from runtime import codec
from runtime.background import wait_set
from runtime.messaging import call_rpc

LOG_PARAMS = frozenset({"tail", "since", "follow"})
MAX_TAIL = 10_000
PAGE = 5_000  # lines per request to the scheduler when paging
OUTPUT_STREAMS = frozenset({"stdout", "stderr", "output"})  # not the network's own lines
TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})


@dataclass(frozen=True)
class LogParams:
    tail: int | None
    since: str | None
    follow: bool


def log_params(params: Any) -> LogParams:
    """`tail` (0–10000), `since` (ISO time), `follow` (true|false); anything else is a 400."""
    unknown = sorted(set(params) - LOG_PARAMS)
    if unknown:
        raise validation(
            f"Unknown query parameter {unknown[0]!r}; allowed: follow, since, tail",
            unknown[0],
            "unknown_parameter",
        )
    tail = None
    if "tail" in params:
        text = params["tail"]
        if not text.isdigit() or int(text) > MAX_TAIL:
            raise validation(f"tail must be an integer from 0 to {MAX_TAIL}", "tail", "range")
        tail = int(text)
    since = None
    if "since" in params:
        try:
            # Microseconds, as log lines carry them: lines of one millisecond stay apart.
            since = record_time(parse_time(params["since"]))
        except ValueError:
            raise validation(
                "since must be an ISO-8601 time such as 2025-07-10T12:00:00Z", "since", "iso_time"
            ) from None
    follow = params.get("follow", "false").lower()
    if follow not in ("true", "false", "1", "0"):
        raise validation("follow must be true or false", "follow", "boolean")
    return LogParams(tail, since, follow in ("true", "1"))


async def get_logs(request: web.Request) -> web.StreamResponse:
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    params = log_params(request.query)
    job_id = request.match_info["job_id"]
    if params.follow:
        return await follow_logs(request, ctx, key.tenant, job_id, params)
    page = await _page(
        ctx, key.tenant, job_id, tail=params.tail, since=params.since, limit=MAX_TAIL
    )
    lines = page["logs"]
    meta = {"hasMore": params.tail is None and len(lines) == MAX_TAIL}
    return ok({"logs": lines}, meta=meta)


async def get_output(request: web.Request) -> web.StreamResponse:
    """The job's whole retained output (stdout and stderr, not the network's own lines) as
    text, streamed page by page: memory does not grow with the size of the log."""
    ctx = GatewayContext.of(request)
    key = require(request, "jobs:read")
    job_id = request.match_info["job_id"]
    page = await _page(ctx, key.tenant, job_id, after=0, limit=PAGE)  # 404 before any byte
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    await response.prepare(request)
    while True:
        lines = page["logs"]
        text = "".join(r["line"] + "\n" for r in lines if r["stream"] in OUTPUT_STREAMS)
        if text:
            await response.write(text.encode())
        if len(lines) < PAGE:
            break
        page = await _page(ctx, key.tenant, job_id, after=lines[-1]["seq"], limit=PAGE)
    await response.write_eof()
    return response


async def follow_logs(
    request: web.Request, ctx: GatewayContext, tenant: str, job_id: str, params: LogParams
) -> web.StreamResponse:
    """Backlog, then live lines, without gap or repeat: subscribe first, read the backlog
    from the store, then send live lines newer than the last one sent (reading any gap
    between the two from the store)."""
    resume = _last_event_id(request)
    async with ctx.logs_hub.follow(job_id) as follower:
        if resume is not None:
            first = await _page(ctx, tenant, job_id, after=resume, limit=PAGE)
            last = resume
        elif params.tail == 0:  # live lines only: start after the newest stored line
            first = await _page(ctx, tenant, job_id, tail=1, since=params.since)
            last = first["logs"][-1]["seq"] if first["logs"] else 0
            first["logs"] = []
        else:
            first = await _page(
                ctx, tenant, job_id, tail=params.tail, since=params.since, limit=PAGE
            )
            last = 0
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # proxies must not hold events back
            }
        )
        await response.prepare(request)
        stream = _Stream(ctx, response, tenant, job_id, params.since, last)
        try:
            await stream.write(b"retry: 1000\n\n")
            if await stream.backlog(first) and first["status"] in TERMINAL:
                follower.ended = first["status"]
            await stream.live(follower)
        except (TimeoutError, ConnectionError, SlowReader):  # too slow to keep up, or gone
            if request.transport is not None:
                request.transport.abort()  # close() would wait for the reader to drain
    return response


class SlowReader(Exception):
    """The follower fell too far behind; its connection is cut after the reason is sent."""


class _Stream:
    """One SSE connection: what was sent last, and how to send more."""

    def __init__(
        self,
        ctx: GatewayContext,
        response: web.StreamResponse,
        tenant: str,
        job_id: str,
        since: str | None,
        last: int,
    ) -> None:
        self.ctx, self.response, self.tenant, self.job_id = ctx, response, tenant, job_id
        self.since, self.last = since, last

    async def write(self, data: bytes) -> None:
        """A reader that does not take our bytes in time is dropped (memory stays bounded)."""
        await asyncio.wait_for(self.response.write(data), self.ctx.settings.sse_write_timeout)

    async def send(self, events: list[Event]) -> None:
        fresh = [e for seq, e in events if seq > self.last]
        if fresh:
            self.last = max(seq for seq, _ in events)
            await self.write(b"".join(fresh))

    async def backlog(self, page: dict[str, Any]) -> bool:
        """Send `page` and every stored line after it; True once the store has no more."""
        while True:
            lines = page["logs"]
            await self.send([(r["seq"], _render(r)) for r in lines])
            if len(lines) < PAGE:
                return True
            page = await _page(self.ctx, self.tenant, self.job_id, after=self.last, limit=PAGE)

    async def fill_gap(self, until: int) -> None:
        """Lines published before we subscribed but not yet stored: wait for the store."""
        deadline = asyncio.get_running_loop().time() + self.ctx.settings.follow_gap_timeout
        while self.last < until - 1:
            page = await _page(self.ctx, self.tenant, self.job_id, after=self.last, limit=PAGE)
            lines = [r for r in page["logs"] if r["seq"] < until]
            if lines:
                await self.send([(r["seq"], _render(r)) for r in lines])
            elif asyncio.get_running_loop().time() > deadline:
                return  # retention dropped them, or the store is far behind: go on live
            else:
                await asyncio.sleep(0.05)

    async def live(self, follower: Follower) -> None:
        heartbeat = self.ctx.settings.sse_heartbeat
        while True:
            if follower.dropped:
                await self._final("dropped", {"reason": follower.dropped})
                raise SlowReader(follower.dropped)
            events = follower.take()
            if events:
                if events[0][0] > self.last + 1:
                    await self.fill_gap(events[0][0])
                await self.send(events)
                continue
            if follower.ended:
                await self.backlog(
                    await _page(self.ctx, self.tenant, self.job_id, after=self.last, limit=PAGE)
                )
                await self._final("end", {"status": follower.ended})
                return
            if not await wait_set(follower.wake, heartbeat):
                await self.write(b": heartbeat\n\n")

    async def _final(self, event: str, data: dict[str, Any]) -> None:
        await self.write(b"event: %s\ndata: %s\n\n" % (event.encode(), codec.dumps(data)))
        await self.response.write_eof()


def _render(record: dict[str, Any]) -> bytes:
    return sse_event(record["seq"], record["timestamp"], record["stream"], record["line"])


def _last_event_id(request: web.Request) -> int | None:
    value = request.headers.get("Last-Event-ID")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise validation(
            "Last-Event-ID must be a line's seq (an integer)", "Last-Event-ID", "integer"
        )
    return int(value)


async def _page(
    ctx: GatewayContext,
    tenant: str,
    job_id: str,
    *,
    after: int = 0,
    tail: int | None = None,
    since: str | None = None,
    limit: int = PAGE,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"tenant": tenant, "id": job_id, "afterSeq": after, "limit": limit}
    if tail is not None:
        payload["tail"] = tail
    if since is not None:
        payload["since"] = since
    page: dict[str, Any] = await call_rpc(
        ctx.nc, subjects.RPC_JOB_LOGS, payload, ctx.settings.rpc_timeout
    )
    return page
