"""Background loops stop when asked, even when a step turns the cancellation into an error."""

from __future__ import annotations

import asyncio

from runtime.background import every


async def test_a_step_that_swallows_its_cancellation_does_not_keep_the_loop_alive() -> None:
    started = asyncio.Event()

    async def step() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            # What asyncpg does when a commit is cancelled and the rollback is then refused.
            raise RuntimeError("cannot rollback; the transaction is in error state") from None

    task = every(0.01, step, "swallower")
    task.start()
    await started.wait()
    await asyncio.wait_for(task.stop(), 2)  # hung forever before


async def test_a_failing_step_is_retried_until_stopped() -> None:
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("flaky")

    task = every(0.01, step, "flaky")
    task.start()
    await asyncio.sleep(0.1)
    await asyncio.wait_for(task.stop(), 2)
    assert calls >= 3
