"""A durable JetStream pull consumer: fetch batches, hand them over, stop between batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from runtime.background import wait_set
from runtime.logging import get_logger

log = get_logger(__name__)
BatchHandler = Callable[[list[Msg]], Awaitable[None]]


class PullConsumer:
    """The handler acks, naks or terms each message; what it leaves unacked is redelivered.

    With `room`, it fetches only as many messages as `room()` allows: the rest of the backlog
    stays in the stream (durable, shared with other replicas) until there is room again.
    """

    def __init__(
        self,
        js: JetStreamContext,
        stream: str,
        subject: str,
        durable: str,
        handle: BatchHandler,
        batch: int = 100,
        room: Callable[[], int] | None = None,
    ) -> None:
        self._js, self._stream, self._subject, self._durable = js, stream, subject, durable
        self._handle, self._batch, self._room = handle, batch, room
        self._has_room = asyncio.Event()
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

    def wake(self) -> None:
        """There may be room again."""
        self._has_room.set()

    async def stop(self) -> None:
        """Finish the batch in hand, then stop."""
        self._stopping = True
        self._has_room.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()

    async def _run(self) -> None:
        while not self._stopping:
            wanted = self._batch if self._room is None else min(self._batch, self._room())
            if wanted <= 0:
                self._has_room.clear()
                await wait_set(self._has_room, 0.5)
                continue
            try:
                messages = await self._sub.fetch(wanted, timeout=0.5)
            except (NatsTimeoutError, TimeoutError):  # nothing to fetch: the normal idle case
                continue
            except Exception:
                log.exception("consumer.fetch_failed", durable=self._durable)
                await asyncio.sleep(0.5)
                continue
            try:
                await self._handle(messages)
            except Exception:
                # Whatever it left unacked comes back after the ack wait; the consumer must
                # live on (an uncaught error here ended it, silently, until shutdown).
                log.exception("consumer.handler_failed", durable=self._durable)
                await asyncio.sleep(0.5)
