from cortex_gateway.auth.rate_limit import TokenBucket


def test_bucket_allows_burst_then_refuses_with_retry_after() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    now = bucket.updated
    decisions = [bucket.take(now) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[2].remaining == 0
    assert decisions[3].retry_after == 1
    assert decisions[0].limit == 3


def test_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=1)
    now = bucket.updated
    assert bucket.take(now).allowed
    assert not bucket.take(now + 0.05).allowed
    assert bucket.take(now + 0.2).allowed
