"""Keep up to N deployments driven by this instance; take over abandoned ones."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from provider_runtime.driver import Driver
from provider_runtime.model import Deployment, DeploymentState
from provider_runtime.store import DeploymentStore
from runtime.background import stop_if_cancelled, wait_set
from runtime.logging import get_logger

log = get_logger(__name__)
CANCEL_EXTRA = 16  # cancelled deployments driven beyond capacity at once


class ClaimLoop:
    def __init__(
        self,
        store: DeploymentStore,
        driver: Driver,
        owner: str,
        capacity: int,
        ttl: float,
        interval: float,
    ) -> None:
        self._store, self._driver, self._owner = store, driver, owner
        self._capacity, self._ttl, self._interval = capacity, ttl, interval
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._renewed_at = 0.0  # monotonic time of the last renew
        self.on_freed: Callable[[], None] = lambda: None

    def wake(self) -> None:
        self._wakeup.set()

    def free(self) -> int:
        """How many more deployments this instance can drive now."""
        return max(self._capacity - len(self._tasks), 0)

    async def claim_now(self) -> None:
        async with self._lock:
            await self._claim()

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop driving; every step is persisted, so whoever claims next resumes it."""
        if self._loop_task:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.claim_now()
            except Exception:
                stop_if_cancelled()
                log.exception("claims.failed")
            self._wakeup.clear()
            await wait_set(self._wakeup, self._interval)

    async def _claim(self) -> None:
        await self._renew_when_due()
        # Cancelled deployments are claimed even at capacity: releasing them frees resources.
        cancelled = await self._store.claim(
            self._owner, self._ttl, CANCEL_EXTRA, list(self._tasks), cancelled_only=True
        )
        self._spawn(cancelled)
        free = self._capacity - len(self._tasks)
        self._spawn(await self._store.claim(self._owner, self._ttl, free, list(self._tasks)))

    async def _renew_when_due(self) -> None:
        """Extend our claims once per interval, not on every claim: a burst of work calls
        `claim_now` once per freed slot, and each renew rewrites every row we drive."""
        if time.monotonic() - self._renewed_at < self._interval:
            return  # a claim lives `ttl`, several intervals: renewed well before it lapses
        self._renewed_at = time.monotonic()
        driving = list(self._tasks)
        still_ours = await self._store.renew(self._owner, self._ttl, driving)
        for job_id in set(driving) - still_ours:  # another instance took it over: let go
            self._tasks.pop(job_id).cancel()

    def _spawn(self, deployments: list[Deployment]) -> None:
        loop = asyncio.get_running_loop()
        for deployment in deployments:
            self._tasks[deployment.job_id] = loop.create_task(
                self._drive(deployment.job_id, deployment)
            )

    async def _drive(self, job_id: str, deployment: Deployment) -> None:
        try:
            try:
                await self._driver.drive(deployment)
            except Exception:
                log.exception("deployment.drive_failed", job_id=job_id)
                await asyncio.sleep(1)  # the next claim round retries from the persisted step
            finally:
                # Before the claim is given back: once it is, a claim round may drive it anew.
                self._tasks.pop(job_id, None)
            if deployment.state is not DeploymentState.CLOSED:
                await self._release(job_id)
        finally:
            self.on_freed()

    async def _release(self, job_id: str) -> None:
        """Unclaim a deployment whose drive ended early (a failure, a watch that stopped):
        claims skip rows we hold, so it is taken again from its persisted step. Should this
        fail, the claim simply lapses after its ttl."""
        try:
            await self._store.release_claim(self._owner, job_id)
        except Exception:
            stop_if_cancelled()
            log.warning("claims.release_failed", job_id=job_id, exc_info=True)
