"""Follow each running job's logs and usage on the network and publish them (stream TELEMETRY)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from contracts import subjects
from contracts.telemetry import LogRecord, UsageSample, log_batch, log_batch_id
from contracts.timefmt import format_time, utcnow
from provider_runtime.model import Deployment
from provider_runtime.network import backoff
from provider_runtime.telemetry import LogCursor, Telemetry
from runtime import codec
from runtime.background import stop_if_cancelled
from runtime.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class PumpSettings:
    batch_lines: int = 5000  # most records per JetStream message
    batch_bytes: int = 512 * 1024  # and most line bytes (NATS' default max payload is 1 MiB)
    queue_lines: int = 50_000  # read ahead of publishing; the network waits beyond this
    metrics_interval: float = 10.0
    drain_timeout: float = 5.0  # how long a finished job's last lines may take to arrive


@dataclass
class _Job:
    cursor: LogCursor = field(default_factory=LogCursor)  # the last line read from the network
    tasks: list[asyncio.Task[None]] = field(default_factory=list)  # log follower, sampler


class TelemetryPump:
    """One log follower and one usage sampler per running job this instance drives.

    Lines are published in batches as fast as JetStream acks them (no added wait: while one
    batch is in flight the next one gathers), each with `Nats-Msg-Id` = job:first-last seq.
    After a reconnect or a restart the follower resumes after the last line in the stream.
    """

    def __init__(self, js: JetStreamContext, network: Telemetry, settings: PumpSettings) -> None:
        self._js, self._network, self.s = js, network, settings
        self._jobs: dict[str, _Job] = {}

    def start(self, d: Deployment, resume: bool) -> None:
        """Follow `d` unless already following it; `resume` when lines of it may have been
        published before (a restart, a handover): the follower goes on after the last one."""
        if d.job_id in self._jobs:
            return
        loop = asyncio.get_running_loop()
        job = self._jobs[d.job_id] = _Job()
        job.tasks = [
            loop.create_task(self._follow(d, job, resume)),
            loop.create_task(self._sample(d)),
        ]

    async def finish(self, job_id: str, drain: bool) -> int | None:
        """Stop following; with `drain`, first let the log end by itself (bounded). Returns
        the last line's seq once every line was published (None if not known to be)."""
        job = self._jobs.pop(job_id, None)
        if job is None:
            return None
        drained = False
        if drain:
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(job.tasks[0]), self.s.drain_timeout)
                drained = True
        for task in job.tasks:
            task.cancel()
        await asyncio.gather(*job.tasks, return_exceptions=True)
        return job.cursor.seq if drained else None

    async def stop(self) -> None:
        for job_id in list(self._jobs):
            await self.finish(job_id, drain=False)

    # --- logs ---

    async def _follow(self, d: Deployment, job: _Job, resume: bool) -> None:
        if resume:  # else nothing can be out yet: no need to ask the stream
            job.cursor = await self._published_cursor(d.job_id)
        queue: asyncio.Queue[LogRecord | None] = asyncio.Queue(self.s.queue_lines)
        # Started with the first line: most short jobs print little or nothing.
        publisher: asyncio.Task[None] | None = None
        attempt = 0
        try:
            while True:
                try:
                    async for record in self._network.logs(d, job.cursor):
                        attempt = 0
                        if publisher is None:
                            publisher = asyncio.get_running_loop().create_task(
                                self._publish(d.job_id, queue)
                            )
                        await queue.put(record)
                        job.cursor = LogCursor(record.seq, record.timestamp)
                    break
                except Exception as exc:  # the network's stream broke: resume after the last line
                    stop_if_cancelled()
                    attempt += 1
                    log.info("telemetry.logs_reconnect", job_id=d.job_id, error=str(exc))
                    await asyncio.sleep(backoff(attempt, base=0.1, cap=5.0))
            if publisher is not None:
                await queue.put(None)
                await publisher
        finally:
            if publisher is not None:
                publisher.cancel()

    async def _publish(self, job_id: str, queue: asyncio.Queue[LogRecord | None]) -> None:
        subject = subjects.job_logs(job_id)
        while True:
            first = await queue.get()
            if first is None:
                return
            batch, size, ended = [first], len(first.line), False
            while len(batch) < self.s.batch_lines and size < self.s.batch_bytes:
                try:
                    record = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if record is None:
                    ended = True
                    break
                batch.append(record)
                size += len(record.line)
            body = codec.dumps(log_batch(job_id, batch))
            await self._send(subject, body, log_batch_id(job_id, batch))
            if ended:
                return

    async def _published_cursor(self, job_id: str) -> LogCursor:
        """The last line of this job in the stream (after a restart, resume after it)."""
        try:
            msg = await self._js.get_last_msg(subjects.TELEMETRY_STREAM, subjects.job_logs(job_id))
        except NotFoundError:
            return LogCursor()
        records = codec.loads(msg.data or b"{}").get("records") or []
        if not records:
            return LogCursor()
        last = LogRecord.from_json(records[-1])
        return LogCursor(last.seq, last.timestamp)

    # --- usage ---

    async def _sample(self, d: Deployment) -> None:
        subject = subjects.job_metrics(d.job_id)
        while True:
            await asyncio.sleep(self.s.metrics_interval)
            try:
                usage = await self._network.usage(d)
            except Exception as exc:
                stop_if_cancelled()
                log.info("telemetry.usage_failed", job_id=d.job_id, error=str(exc))
                continue
            if usage is None:
                continue
            at = format_time(utcnow()) or ""
            sample = UsageSample(
                at, usage.cpu_millicores, usage.memory_bytes, usage.rx_bytes, usage.tx_bytes
            )
            body = {"jobId": d.job_id, **sample.to_json()}
            await self._send(subject, codec.dumps(body), f"{d.job_id}:metrics:{at}")

    async def _send(self, subject: str, payload: bytes, msg_id: str) -> None:
        """Publish until JetStream stores it (a duplicate id is dropped there)."""
        attempt = 0
        while True:
            try:
                await self._js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id}, timeout=5)
                return
            except Exception as exc:
                stop_if_cancelled()
                attempt += 1
                log.warning("telemetry.publish_retry", subject=subject, error=str(exc))
                await asyncio.sleep(backoff(attempt, base=0.1, cap=5.0))
