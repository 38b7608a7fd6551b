"""Background loops stop when asked, even when a step turns the cancellation into an error."""

from __future__ import annotations

import asyncio

import pytest

from runtime.background import every, wait_set


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


async def test_wait_set_tells_set_from_timed_out() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_set(event, 5) is True


async def test_a_cancel_that_meets_the_event_being_set_is_not_lost() -> None:
    """The race that kept a provider's claim loop running after its stop (decision 71):
    the loop's wake-up event is set, and the loop is cancelled, before it runs again."""
    event = asyncio.Event()
    woken: list[bool] = []

    async def loop() -> None:
        while True:  # like a claim loop: only a cancellation ends it
            woken.append(await wait_set(event, 60))
            event.clear()

    task = asyncio.get_running_loop().create_task(loop())
    await asyncio.sleep(0)  # the loop now waits for the event
    event.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)  # Python 3.11's wait_for(event.wait()) ran on here
    assert woken == []
