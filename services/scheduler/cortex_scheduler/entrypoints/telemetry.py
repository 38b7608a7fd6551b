"""Store log batches and usage samples from stream TELEMETRY, many messages per statement."""

from __future__ import annotations

from collections.abc import Awaitable

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects
from contracts.telemetry import UsageSample
from cortex_scheduler.adapters.telemetry_store import LogMessage, TelemetryStore
from runtime import codec
from runtime.consumer import PullConsumer
from runtime.logging import get_logger

log = get_logger(__name__)
LOGS_DURABLE = "scheduler-logs"
METRICS_DURABLE = "scheduler-metrics"


def log_consumer(js: JetStreamContext, store: TelemetryStore, batch: int) -> PullConsumer:
    """Each fetch of up to `batch` messages (each many lines) is one INSERT."""

    async def store_batch(messages: list[Msg]) -> None:
        parsed: list[LogMessage] = []
        good: list[Msg] = []
        for msg in messages:
            try:
                parsed.append(LogMessage.parse(msg.data))
                good.append(msg)
            except (ValueError, KeyError, TypeError, IndexError):
                log.error("telemetry.malformed_logs", subject=msg.subject)
                await msg.term()
        await _commit(good, store.add_messages(parsed))

    return PullConsumer(
        js, subjects.TELEMETRY_STREAM, f"{subjects.LOGS_PREFIX}.>", LOGS_DURABLE, store_batch, batch
    )


def metrics_consumer(js: JetStreamContext, store: TelemetryStore, batch: int) -> PullConsumer:
    async def store_batch(messages: list[Msg]) -> None:
        rows: list[tuple[str, UsageSample]] = []
        good: list[Msg] = []
        for msg in messages:
            try:
                body = codec.loads(msg.data)
                rows.append((str(body["jobId"]), UsageSample.from_json(body)))
                good.append(msg)
            except (ValueError, KeyError, TypeError):
                log.error("telemetry.malformed_sample", subject=msg.subject)
                await msg.term()
        await _commit(good, store.add_samples(rows))

    return PullConsumer(
        js,
        subjects.TELEMETRY_STREAM,
        f"{subjects.METRICS_PREFIX}.>",
        METRICS_DURABLE,
        store_batch,
        batch,
    )


async def _commit(messages: list[Msg], write: Awaitable[None]) -> None:
    """Ack after the write; on failure nak, so JetStream redelivers (inserts are idempotent)."""
    try:
        await write
    except Exception:
        log.exception("telemetry.store_failed", messages=len(messages))
        for msg in messages:
            await msg.nak(delay=1)
        return
    for msg in messages:
        await msg.ack()
