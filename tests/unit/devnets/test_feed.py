"""The devnets' bounded, followable sequence (what log streams read from)."""

from __future__ import annotations

import asyncio

from devnets.feed import Feed


def test_after_returns_the_items_past_a_seq_within_what_is_retained() -> None:
    feed: Feed[int] = Feed(capacity=5)
    feed.extend(list(range(1, 9)))  # seqs 1..8, only 4..8 kept
    assert feed.first_seq == 4 and feed.next_seq == 9
    assert feed.after(6) == [7, 8]
    assert feed.after(0) == [4, 5, 6, 7, 8]  # older ones are gone
    assert feed.after(8) == [] and feed.after(20) == []
    assert feed.tail(2) == [7, 8]


async def test_follow_batches_yields_each_item_once_in_order_then_ends() -> None:
    feed: Feed[int] = Feed(capacity=1000)
    feed.extend([1, 2, 3])
    seen: list[int] = []

    async def read() -> None:
        async for batch in feed.follow_batches():
            assert batch, "a batch is never empty"
            seen.extend(batch)

    reader = asyncio.create_task(read())
    await asyncio.sleep(0)
    for item in range(4, 50):
        feed.append(item)
        if item % 7 == 0:
            await asyncio.sleep(0)
    feed.close()
    await asyncio.wait_for(reader, 5)
    assert seen == list(range(1, 50))
