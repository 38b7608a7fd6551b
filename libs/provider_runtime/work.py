"""Consume a network's deploy and cancel work (stream PROVIDER_WORK); ack once recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import CancelWork, DeployWork
from provider_runtime.claims import ClaimLoop
from provider_runtime.store import DeploymentStore
from runtime import codec
from runtime.consumer import PullConsumer
from runtime.logging import get_logger

log = get_logger(__name__)
W = TypeVar("W", DeployWork, CancelWork)


class WorkConsumer:
    """Deploy work is fetched only when there is room to drive it (the backlog waits in the
    stream); cancels are taken at once. Each message is acked once recorded in PostgreSQL."""

    def __init__(
        self,
        js: JetStreamContext,
        network: str,
        store: DeploymentStore,
        claims: ClaimLoop,
        on_cancel: Callable[[str], None],
    ) -> None:
        self._store, self._claims, self._on_cancel = store, claims, on_cancel
        self._deploys = PullConsumer(
            js,
            subjects.PROVIDER_WORK_STREAM,
            subjects.provider_work(network, "deploy"),
            f"provider-{network}-deploy",
            self._record_deploys,
            room=claims.free,
        )
        self._cancels = PullConsumer(
            js,
            subjects.PROVIDER_WORK_STREAM,
            subjects.provider_work(network, "cancel"),
            f"provider-{network}-cancel",
            self._record_cancels,
        )
        claims.on_freed = self._deploys.wake

    async def start(self) -> None:
        await self._deploys.start()
        await self._cancels.start()

    async def stop(self) -> None:
        await self._deploys.stop()
        await self._cancels.stop()

    async def _record_deploys(self, messages: list[Msg]) -> None:
        works = [(msg, w) for msg in messages if (w := await _parse(msg, DeployWork)) is not None]
        rows = [
            (w.job_id, w.tenant, w.spec.model_dump(mode="json", by_alias=True, exclude_none=True))
            for _, w in works
        ]
        if await _recorded([m for m, _ in works], self._store.add_many(rows)):
            await self._claims.claim_now()

    async def _record_cancels(self, messages: list[Msg]) -> None:
        for msg in messages:
            work = await _parse(msg, CancelWork)
            if work is None:
                continue
            if await _recorded([msg], self._store.request_cancel(work.job_id, work.reason)):
                self._on_cancel(work.job_id)
        self._claims.wake()


async def _parse(msg: Msg, model: type[W]) -> W | None:
    """The message's work, or None (and the message terminated) when it is malformed."""
    try:
        return model.model_validate(codec.loads(msg.data))
    except ValueError as exc:
        log.error("work.malformed", subject=msg.subject, error=str(exc))
        await msg.term()
        return None


async def _recorded(messages: list[Msg], record: Awaitable[None]) -> bool:
    """Await the write; ack on success, nak (redeliver soon) on failure."""
    try:
        await record
    except Exception:
        log.exception("work.record_failed", count=len(messages))
        for msg in messages:
            await msg.nak(delay=1)
        return False
    for msg in messages:
        await msg.ack()
    return True
