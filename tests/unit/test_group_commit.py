"""GroupCommit: concurrent writes share a call; a bad item fails only its own submitter."""

from __future__ import annotations

import asyncio

import pytest

from runtime.group_commit import GroupCommit


class Recorder:
    def __init__(self, bad: set[int] | None = None) -> None:
        self.calls: list[list[int]] = []
        self.written: list[int] = []
        self.bad = bad or set()

    async def write(self, items: list[int]) -> None:
        self.calls.append(list(items))
        await asyncio.sleep(0.01)  # a round trip, during which more items arrive
        if self.bad & set(items):
            raise ValueError(f"bad items {sorted(self.bad & set(items))}")
        self.written.extend(items)


async def test_a_lone_write_goes_out_at_once_and_alone() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.write)
    await group.submit(1)
    assert recorder.calls == [[1]]


async def test_writes_submitted_together_share_one_call() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.write)
    await asyncio.gather(*(group.submit(i) for i in range(10)))
    assert recorder.calls == [list(range(10))]


async def test_writes_arriving_during_a_write_share_the_next_call() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.write)
    first = asyncio.ensure_future(group.submit(0))
    await asyncio.sleep(0.001)  # the first write is in flight
    await asyncio.gather(first, *(group.submit(i) for i in range(1, 10)))
    assert recorder.calls == [[0], list(range(1, 10))]
    assert sorted(recorder.written) == list(range(10))


async def test_a_bad_item_fails_its_submitter_only() -> None:
    recorder = Recorder(bad={5})
    group = GroupCommit(recorder.write)
    results = await asyncio.gather(*(group.submit(i) for i in range(10)), return_exceptions=True)
    failed = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert failed == [5]
    assert sorted(recorder.written) == [i for i in range(10) if i != 5]


async def test_a_cancelled_submitter_does_not_stop_the_others() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.write)
    first = asyncio.ensure_future(group.submit(0))
    waiting = [asyncio.ensure_future(group.submit(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    waiting[0].cancel()
    await asyncio.gather(first, waiting[1], waiting[2])
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]
    assert 2 in recorder.written and 3 in recorder.written


async def test_without_splitting_every_submitter_of_a_failed_group_sees_its_error() -> None:
    recorder = Recorder(bad={5})
    group = GroupCommit(recorder.write, split_failures=False)
    results = await asyncio.gather(*(group.submit(i) for i in range(10)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)
    assert recorder.calls == [list(range(10))]  # one attempt, no item written alone
