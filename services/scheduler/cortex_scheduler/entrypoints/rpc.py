"""Request/reply entry points: what the gateway asks of the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from contracts import subjects
from contracts.job import JobSpec
from contracts.timefmt import parse_time
from contracts.validation import parse_model
from cortex_scheduler.adapters.repository import JobQuery
from cortex_scheduler.adapters.telemetry_store import LogQuery
from cortex_scheduler.service_layer.handlers import CreateRequest, Scheduler
from cortex_scheduler.service_layer.telemetry import TelemetryReader
from runtime.logging import get_logger
from runtime.messaging import serve_rpc

log = get_logger(__name__)
QUEUE = "scheduler"


class CreateBatcher:
    """Group concurrent creates into one transaction: one commit for many jobs.

    No artificial wait: while one batch commits, the next one gathers whatever arrives.
    """

    def __init__(self, scheduler: Scheduler, max_batch: int, writers: int = 2) -> None:
        self._scheduler = scheduler
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[CreateRequest, asyncio.Future[Any]]] = asyncio.Queue()
        self._writers = writers
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._write_batches()) for _ in range(self._writers)]

    async def stop(self) -> None:
        # Drain first: every queued request is a caller waiting for its answer.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout=5)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, request: CreateRequest) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((request, future))
        return await future

    async def _write_batches(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                results = await self._scheduler.create_jobs([r for r, _ in batch])
            except Exception as exc:
                log.exception("create.batch_failed", size=len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
            finally:
                for _ in batch:
                    self._queue.task_done()


async def serve(
    nc: NATS, scheduler: Scheduler, batcher: CreateBatcher, telemetry: TelemetryReader
) -> list[Subscription]:
    async def create(body: dict[str, Any]) -> Any:
        spec = parse_model(JobSpec, body["spec"], context=scheduler.limits)
        request = CreateRequest(
            body["jobId"], body["tenant"], spec, body.get("requestId"), spec_json=body["spec"]
        )
        return await batcher.submit(request)

    async def get(body: dict[str, Any]) -> Any:
        return await scheduler.get_job(body["tenant"], body["id"])

    async def list_(body: dict[str, Any]) -> Any:
        query = JobQuery(
            tenant=body["tenant"],
            statuses=tuple(body.get("statuses", ())),
            providers=tuple(body.get("providers", ())),
            created_from=parse_time(body["from"]) if body.get("from") else None,
            created_to=parse_time(body["to"]) if body.get("to") else None,
            sort_field=body.get("sortField", "createdAt"),
            descending=body.get("descending", True),
            page=body.get("page", 1),
            limit=body.get("limit", 20),
        )
        return await scheduler.list_jobs(query)

    async def cancel(body: dict[str, Any]) -> Any:
        return await scheduler.cancel_job(body["tenant"], body["id"])

    async def extend(body: dict[str, Any]) -> Any:
        return await scheduler.extend_job(body["tenant"], body["id"], int(body["duration"]))

    async def logs(body: dict[str, Any]) -> Any:
        query = LogQuery(
            job_id=body["id"],
            tail=body.get("tail"),
            since=parse_time(body["since"]) if body.get("since") else None,
            after_seq=int(body.get("afterSeq", 0)),
            limit=min(int(body.get("limit", 1000)), 10_000),
        )
        return await telemetry.logs(body["tenant"], query)

    async def metrics(body: dict[str, Any]) -> Any:
        period, resolution = (
            timedelta(seconds=body["period"]),
            timedelta(seconds=body["resolution"]),
        )
        return await telemetry.metrics(body["tenant"], body["id"], period, resolution)

    return [
        await serve_rpc(nc, subjects.RPC_JOB_LOGS, logs, QUEUE),
        await serve_rpc(nc, subjects.RPC_JOB_METRICS, metrics, QUEUE),
        await serve_rpc(nc, subjects.RPC_JOB_CREATE, create, QUEUE),
        await serve_rpc(nc, subjects.RPC_JOB_GET, get, QUEUE),
        await serve_rpc(nc, subjects.RPC_JOB_LIST, list_, QUEUE),
        await serve_rpc(nc, subjects.RPC_JOB_CANCEL, cancel, QUEUE),
        await serve_rpc(nc, subjects.RPC_JOB_EXTEND, extend, QUEUE),
    ]
