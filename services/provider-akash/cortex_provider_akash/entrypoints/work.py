"""Consume deploy and cancel work for Akash (stream PROVIDER_WORK); ack once recorded."""

from __future__ import annotations

from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects
from contracts.reports import CancelWork, DeployWork
from cortex_provider_akash.adapters.store import DeploymentStore
from runtime import codec
from runtime.consumer import PullConsumer
from runtime.logging import get_logger

log = get_logger(__name__)
NETWORK = "akash"


class WorkConsumer:
    """Records work durably, then acks; the claim loop does the (long) work itself."""

    def __init__(
        self,
        js: JetStreamContext,
        store: DeploymentStore,
        on_recorded: Callable[[], None],
        on_cancel: Callable[[str], None],
    ) -> None:
        self._store = store
        self._on_recorded, self._on_cancel = on_recorded, on_cancel
        self._consumer = PullConsumer(
            js,
            subjects.PROVIDER_WORK_STREAM,
            subjects.provider_work(NETWORK, "*"),
            f"provider-{NETWORK}",
            self._record,
        )

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def _record(self, messages: list[Msg]) -> None:
        """Deploys in one insert, then cancels in order; ack each message once recorded."""
        deploys: list[tuple[Msg, DeployWork]] = []
        cancels: list[tuple[Msg, CancelWork]] = []
        for msg in messages:
            verb = msg.subject.rsplit(".", 1)[-1]
            try:
                if verb == "deploy":
                    deploys.append((msg, DeployWork.model_validate(codec.loads(msg.data))))
                elif verb == "cancel":
                    cancels.append((msg, CancelWork.model_validate(codec.loads(msg.data))))
                else:
                    raise ValueError(f"unknown verb {verb!r}")
            except ValueError as exc:
                log.error("work.malformed", subject=msg.subject, error=str(exc))
                await msg.term()
        try:
            if deploys:
                await self._store.add_many(
                    [
                        (
                            w.job_id,
                            w.tenant,
                            w.spec.model_dump(mode="json", by_alias=True, exclude_none=True),
                        )
                        for _, w in deploys
                    ]
                )
            for _, cancel in cancels:
                await self._store.request_cancel(cancel.job_id, cancel.reason)
                self._on_cancel(cancel.job_id)
        except Exception:
            log.exception("work.record_failed", count=len(messages))
            for msg, _ in [*deploys, *cancels]:
                await msg.nak(delay=1)
            return
        for msg, _ in [*deploys, *cancels]:
            await msg.ack()
        if messages:
            self._on_recorded()
