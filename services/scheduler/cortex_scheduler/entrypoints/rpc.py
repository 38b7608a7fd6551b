"""Request/reply entry points: what the gateway asks of the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from contracts import subjects
from contracts.batches import ScheduleRequest, TemplateRequest
from contracts.errors import ApiError
from contracts.job import JobSpec
from contracts.timefmt import parse_time
from contracts.validation import parse_model
from cortex_scheduler.adapters.repository import JobQuery
from cortex_scheduler.adapters.telemetry_store import LogQuery
from cortex_scheduler.service_layer.catalog import Catalog, ScheduleInput, TemplateInput
from cortex_scheduler.service_layer.handlers import (
    BatchCreate,
    CreateRequest,
    IdempotencyKey,
    Scheduler,
)
from cortex_scheduler.service_layer.telemetry import TelemetryReader
from runtime.background import stop_if_cancelled
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
                stop_if_cancelled()
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


def _idempotency(body: dict[str, Any]) -> IdempotencyKey | None:
    given = body.get("idempotency")
    return None if given is None else IdempotencyKey(given["key"], given["hash"])


def _template_input(body: dict[str, Any]) -> TemplateInput:
    given = parse_model(TemplateRequest, body)
    parse_model(JobSpec, given.config)  # trust nothing: the stored config is a valid spec
    return TemplateInput(given.name, given.description, given.config)


def _schedule_input(body: dict[str, Any]) -> ScheduleInput:
    given = parse_model(ScheduleRequest, body)
    if given.config is not None:
        parse_model(JobSpec, given.config)
    return ScheduleInput(
        given.name, given.cron, given.timezone, given.template_id, given.overrides, given.config
    )


def _page(body: dict[str, Any]) -> tuple[str, int, int]:
    return body["tenant"], int(body.get("page", 1)), int(body.get("limit", 20))


async def serve(
    nc: NATS,
    scheduler: Scheduler,
    batcher: CreateBatcher,
    catalog: Catalog,
    telemetry: TelemetryReader,
) -> list[Subscription]:
    def create_request(tenant: str, job: dict[str, Any], request_id: str | None) -> CreateRequest:
        spec = parse_model(JobSpec, job["spec"], context=scheduler.limits)
        return CreateRequest(
            job["jobId"], tenant, spec, request_id, job["spec"], job.get("templateId")
        )

    async def create(body: dict[str, Any]) -> Any:
        request = create_request(body["tenant"], body, body.get("requestId"))
        idempotency = _idempotency(body)
        if idempotency is None:
            return await batcher.submit(request)
        # With a key the answer is `{status, data, replayed}`, from one transaction that
        # holds both the job and the key's record.
        return await scheduler.create_job(request, idempotency)

    async def create_many(body: dict[str, Any]) -> Any:
        """Independent creates sent together: each answered on its own, `{ok, data|error}`.

        The valid ones are recorded in one transaction: the gateway already grouped them.
        """
        answers: list[dict[str, Any] | None] = [None] * len(body["jobs"])
        valid: list[tuple[int, CreateRequest]] = []
        for index, job in enumerate(body["jobs"]):
            try:
                valid.append((index, create_request(job["tenant"], job, job.get("requestId"))))
            except ApiError as exc:
                answers[index] = {"ok": False, "error": exc.to_dict()}
        if valid:
            recorded = await scheduler.create_jobs([request for _, request in valid])
            for (index, _), data in zip(valid, recorded, strict=True):
                answers[index] = {"ok": True, "data": data}
        return answers

    async def create_batch(body: dict[str, Any]) -> Any:
        tenant, request_id = body["tenant"], body.get("requestId")
        batch = BatchCreate(
            body["batchId"],
            tenant,
            [create_request(tenant, job, request_id) for job in body["jobs"]],
            int(body["concurrency"]),
            request_id,
        )
        return await scheduler.create_batch(batch, _idempotency(body))

    async def get_batch(body: dict[str, Any]) -> Any:
        return await scheduler.get_batch(body["tenant"], body["id"])

    async def cancel_batch(body: dict[str, Any]) -> Any:
        return await scheduler.cancel_batch(body["tenant"], body["id"])

    async def create_template(body: dict[str, Any]) -> Any:
        given = _template_input(body["template"])
        return await catalog.create_template(body["tenant"], body["id"], given)

    async def list_templates(body: dict[str, Any]) -> Any:
        return await catalog.list_templates(*_page(body))

    async def get_template(body: dict[str, Any]) -> Any:
        return await catalog.get_template(body["tenant"], body["id"])

    async def update_template(body: dict[str, Any]) -> Any:
        given = _template_input(body["template"])
        return await catalog.update_template(body["tenant"], body["id"], given)

    async def delete_template(body: dict[str, Any]) -> Any:
        return await catalog.delete_template(body["tenant"], body["id"])

    async def create_schedule(body: dict[str, Any]) -> Any:
        given = _schedule_input(body["schedule"])
        return await catalog.create_schedule(body["tenant"], body["id"], given)

    async def list_schedules(body: dict[str, Any]) -> Any:
        return await catalog.list_schedules(*_page(body))

    async def get_schedule(body: dict[str, Any]) -> Any:
        return await catalog.get_schedule(body["tenant"], body["id"])

    async def update_schedule(body: dict[str, Any]) -> Any:
        given = _schedule_input(body["schedule"])
        return await catalog.update_schedule(body["tenant"], body["id"], given)

    async def delete_schedule(body: dict[str, Any]) -> Any:
        return await catalog.delete_schedule(body["tenant"], body["id"])

    async def pause_schedule(body: dict[str, Any]) -> Any:
        return await catalog.set_paused(body["tenant"], body["id"], True)

    async def resume_schedule(body: dict[str, Any]) -> Any:
        return await catalog.set_paused(body["tenant"], body["id"], False)

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
            batch_id=body.get("batch"),
            schedule_id=body.get("schedule"),
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

    handlers = {
        subjects.RPC_JOB_LOGS: logs,
        subjects.RPC_JOB_METRICS: metrics,
        subjects.RPC_JOB_CREATE: create,
        subjects.RPC_JOB_CREATE_MANY: create_many,
        subjects.RPC_JOB_GET: get,
        subjects.RPC_JOB_LIST: list_,
        subjects.RPC_JOB_CANCEL: cancel,
        subjects.RPC_JOB_EXTEND: extend,
        subjects.RPC_BATCH_CREATE: create_batch,
        subjects.RPC_BATCH_GET: get_batch,
        subjects.RPC_BATCH_CANCEL: cancel_batch,
        subjects.RPC_TEMPLATE_CREATE: create_template,
        subjects.RPC_TEMPLATE_LIST: list_templates,
        subjects.RPC_TEMPLATE_GET: get_template,
        subjects.RPC_TEMPLATE_UPDATE: update_template,
        subjects.RPC_TEMPLATE_DELETE: delete_template,
        subjects.RPC_SCHEDULE_CREATE: create_schedule,
        subjects.RPC_SCHEDULE_LIST: list_schedules,
        subjects.RPC_SCHEDULE_GET: get_schedule,
        subjects.RPC_SCHEDULE_UPDATE: update_schedule,
        subjects.RPC_SCHEDULE_DELETE: delete_schedule,
        subjects.RPC_SCHEDULE_PAUSE: pause_schedule,
        subjects.RPC_SCHEDULE_RESUME: resume_schedule,
    }
    return [await serve_rpc(nc, subject, h, QUEUE) for subject, h in handlers.items()]
