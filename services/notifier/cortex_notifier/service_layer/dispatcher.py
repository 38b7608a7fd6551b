"""Send due deliveries: many at once, a few per endpoint, so no endpoint delays another."""

from __future__ import annotations

import asyncio
import contextlib

from cortex_notifier.adapters.deliveries import Claim, DeliveryRepository
from cortex_notifier.service_layer.attempts import Attempter
from runtime.background import stop_if_cancelled, wait_set
from runtime.logging import get_logger

log = get_logger(__name__)


class Dispatcher:
    """Claims due deliveries from PostgreSQL (SKIP LOCKED: replicas share them) and attempts
    each in its own task. A webhook with `per_endpoint` attempts in flight is skipped until
    one ends, so a hanging endpoint holds only its own slots."""

    def __init__(
        self,
        deliveries: DeliveryRepository,
        attempter: Attempter,
        per_endpoint: int,
        max_in_flight: int,
        batch: int,
        poll_interval: float,
        lease: float,
    ) -> None:
        self._deliveries, self._attempter = deliveries, attempter
        self._per_endpoint, self._max_in_flight = per_endpoint, max_in_flight
        self._batch, self._poll, self._lease = batch, poll_interval, lease
        self._in_flight: dict[str, int] = {}
        self._tasks: dict[asyncio.Task[None], Claim] = {}
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New deliveries may be due."""
        self._wakeup.set()

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, grace: float = 2.0) -> None:
        """Stop claiming; give attempts in flight `grace` seconds, then make the rest due."""
        if self._loop_task:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        unfinished = [claim.id for task, claim in self._tasks.items() if not task.done()]
        for task in list(self._tasks):
            task.cancel()
        if unfinished:
            with contextlib.suppress(Exception):
                await self._deliveries.release(unfinished)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                claimed = await self.dispatch_once()
            except Exception:
                stop_if_cancelled()
                log.exception("dispatch.failed")
                claimed = 0
                await asyncio.sleep(self._poll)
            if claimed == self._batch:
                continue  # probably more due
            await wait_set(self._wakeup, self._poll)

    async def dispatch_once(self) -> int:
        """Claim what is due and has room; start an attempt for each. How many started."""
        room = self._max_in_flight - len(self._tasks)
        if room <= 0:
            return 0
        saturated = [w for w, n in self._in_flight.items() if n >= self._per_endpoint]
        claims = await self._deliveries.claim_due(
            min(self._batch, room),
            lambda webhook: self._per_endpoint - self._in_flight.get(webhook, 0),
            saturated,
            self._lease,
        )
        loop = asyncio.get_running_loop()
        for claim in claims:
            self._in_flight[claim.webhook_id] = self._in_flight.get(claim.webhook_id, 0) + 1
            task = loop.create_task(self._attempt(claim))
            self._tasks[task] = claim
        return len(claims)

    async def _attempt(self, claim: Claim) -> None:
        try:
            await self._attempter.run(claim)
        except Exception:
            # The lease runs out and the delivery is due again: nothing is lost.
            log.exception("delivery.attempt_failed", delivery_id=claim.id)
        finally:
            left = self._in_flight.get(claim.webhook_id, 1) - 1
            if left:
                self._in_flight[claim.webhook_id] = left
            else:
                self._in_flight.pop(claim.webhook_id, None)
            task = asyncio.current_task()
            if task is not None:
                self._tasks.pop(task, None)
            self._wakeup.set()
