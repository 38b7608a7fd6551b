"""A durable JetStream pull consumer: fetch batches, hand them over, stop between batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from runtime.logging import get_logger

log = get_logger(__name__)
BatchHandler = Callable[[list[Msg]], Awaitable[None]]


class PullConsumer:
    """The handler acks, naks or terms each message; what it leaves unacked is redelivered."""

    def __init__(
        self,
        js: JetStreamContext,
        stream: str,
        subject: str,
        durable: str,
        handle: BatchHandler,
        batch: int = 100,
    ) -> None:
        self._js, self._stream, self._subject, self._durable = js, stream, subject, durable
        self._handle, self._batch = handle, batch
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._sub = await self._js.pull_subscribe(
            self._subject,
            durable=self._durable,
            stream=self._stream,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=1000),
        )
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish the batch in hand, then stop."""
        self._stopping = True
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                messages = await self._sub.fetch(self._batch, timeout=0.5)
            except NatsTimeoutError:
                continue
            except Exception:
                log.exception("consumer.fetch_failed", durable=self._durable)
                await asyncio.sleep(0.5)
                continue
            await self._handle(messages)
