"""NATS connection, the JetStream streams Cortex uses, and request/reply with error envelopes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from contracts.events import envelope, new_event_id
from contracts.timefmt import utcnow
from runtime import codec
from runtime.background import wait_set
from runtime.logging import get_logger
from runtime.tracing import bind_from_headers, headers_for

log = get_logger(__name__)

# Duplicate window for Nats-Msg-Id de-duplication; longer than any retry loop of ours.
DEDUPE_WINDOW_SECONDS = 2 * 3600

STREAMS = [
    StreamConfig(
        name=subjects.PROVIDER_WORK_STREAM,
        subjects=[subjects.PROVIDER_WORK_SUBJECTS],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        duplicate_window=DEDUPE_WINDOW_SECONDS,
    ),
    StreamConfig(
        name=subjects.REPORTS_STREAM,
        subjects=[subjects.REPORTS_SUBJECTS],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        duplicate_window=DEDUPE_WINDOW_SECONDS,
    ),
    StreamConfig(
        name=subjects.EVENTS_STREAM,
        subjects=[subjects.EVENTS_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=7 * 24 * 3600,
        duplicate_window=DEDUPE_WINDOW_SECONDS,
    ),
    # Logs and usage: the scheduler keeps them in PostgreSQL; the stream is a bounded buffer
    # (a day, 4 GiB, oldest dropped first) that other consumers may read directly.
    StreamConfig(
        name=subjects.TELEMETRY_STREAM,
        subjects=subjects.TELEMETRY_SUBJECTS,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=24 * 3600,
        max_bytes=4 * 1024**3,
        duplicate_window=DEDUPE_WINDOW_SECONDS,
    ),
]


async def connect(url: str, name: str) -> NATS:
    """Connect, retrying until NATS answers: services may start before it does."""

    async def _disconnected() -> None:
        log.warning("nats.disconnected")

    async def _reconnected() -> None:
        log.info("nats.reconnected")

    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            return await nats.connect(
                url,
                name=name,
                connect_timeout=2,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
                disconnected_cb=_disconnected,
                reconnected_cb=_reconnected,
                pending_size=64 * 1024 * 1024,
                drain_timeout=5,
            )
        except (OSError, nats.errors.NoServersError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.info("nats.waiting", error=str(exc))
            await asyncio.sleep(0.5)


async def ensure_streams(js: JetStreamContext) -> None:
    """Create the streams and buckets if missing; every service may call it at start."""
    for config in STREAMS:
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
    for bucket in (subjects.PRICES_BUCKET, subjects.PROVIDER_STATUS_BUCKET):
        await js.create_key_value(KeyValueConfig(bucket=bucket, history=1))


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


async def serve_rpc(nc: NATS, subject: str, handler: Handler, queue: str) -> Subscription:
    """Answer requests on `subject`: `{ok, data}` or `{ok: false, error}`, never silence."""

    async def _on_request(msg: Msg) -> None:
        bind_from_headers(msg.headers)
        try:
            result = await handler(codec.loads(msg.data) if msg.data else {})
            reply: dict[str, Any] = {"ok": True, "data": result}
        except ApiError as exc:
            reply = {"ok": False, "error": exc.to_dict()}
        except Exception:
            log.exception("rpc.failed", subject=subject)
            reply = {
                "ok": False,
                "error": ApiError(ErrorCode.INTERNAL_ERROR, "Internal error").to_dict(),
            }
        if msg.reply:
            await msg.respond(codec.dumps(reply))

    async def _on_message(msg: Msg) -> None:
        # Each request in its own task: a slow database call must not hold up the rest.
        asyncio.get_running_loop().create_task(_on_request(msg))

    return await nc.subscribe(subject, queue=queue, cb=_on_message, pending_msgs_limit=100_000)


async def call_rpc(nc: NATS, subject: str, payload: dict[str, Any], timeout: float = 5.0) -> Any:
    """Send a request and return its `data`, raising the ApiError the owner answered with."""
    try:
        msg = await nc.request(
            subject, codec.dumps(payload), timeout=timeout, headers=headers_for()
        )
    except (NoRespondersError, NatsTimeoutError):
        raise ApiError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The service that owns this data did not answer; try again shortly",
            {"subject": subject},
        ) from None
    reply = codec.loads(msg.data)
    if not reply.get("ok"):
        raise ApiError.from_dict(reply["error"])
    return reply.get("data")


class PublishFailed(Exception):
    """JetStream did not store every message of a batch."""


Outgoing = tuple[str, bytes, dict[str, str]]  # subject, payload, headers


class _Pending:
    """A batch waiting for its acks."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.errors: list[bytes] = []
        self.all_acked = asyncio.Event()


class BatchPublisher:
    """Publish to JetStream pipelined: send a batch, then await every ack at once.

    Acks come back on one inbox subscription made on first use and kept (a subscription per
    batch cost a SUB and an UNSUB on every report and outbox round); each batch has its own
    reply prefix under it. Cheaper than one `js.publish` per message (no future and task
    per message), which matters on the intake path.
    """

    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        self._inbox = ""
        self._subscription: Subscription | None = None
        self._pending: dict[str, _Pending] = {}
        self._next_batch = 0

    @property
    def waiting(self) -> int:
        """Batches sent and not yet fully acknowledged."""
        return len(self._pending)

    async def publish(self, messages: list[Outgoing], timeout: float = 5.0) -> None:
        """Raises PublishFailed unless JetStream stored every message."""
        if not messages:
            return
        inbox = await self._ensure_inbox()
        self._next_batch += 1
        batch_id = str(self._next_batch)
        batch = self._pending[batch_id] = _Pending(len(messages))
        prefix = f"{inbox}.{batch_id}."
        try:
            for index, (subject, payload, headers) in enumerate(messages):
                await self._nc.publish(subject, payload, reply=f"{prefix}{index}", headers=headers)
            if not await wait_set(batch.all_acked, timeout):
                raise PublishFailed(f"{batch.remaining} of {len(messages)} not acknowledged")
            if batch.errors:
                raise PublishFailed(batch.errors[0].decode(errors="replace"))
        finally:
            del self._pending[batch_id]

    async def _ensure_inbox(self) -> str:
        if self._subscription is None:
            inbox = self._nc.new_inbox()
            subscription = await self._nc.subscribe(f"{inbox}.>", cb=self._on_ack)
            if self._subscription is None:
                self._inbox, self._subscription = inbox, subscription
            else:  # a concurrent first publish made one meanwhile
                await subscription.unsubscribe()
        return self._inbox

    async def _on_ack(self, msg: Msg) -> None:
        batch = self._pending.get(msg.subject.rsplit(".", 2)[-2])
        if batch is None:  # a batch that timed out (its sender retries)
            return
        if not msg.data or b'"error"' in msg.data:
            batch.errors.append(msg.data or b"no responders")
        batch.remaining -= 1
        if batch.remaining == 0:
            batch.all_acked.set()


async def publish_event(
    js: JetStreamContext, subject: str, event_type: str, data: dict[str, Any]
) -> str:
    """Publish one public event (envelope, `Nats-Msg-Id` = its id) and return the id."""
    event_id = new_event_id()
    body = envelope(event_id, event_type, utcnow(), data)
    await js.publish(subject, codec.dumps(body), headers={"Nats-Msg-Id": event_id})
    return event_id
