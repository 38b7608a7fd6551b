"""Token buckets per API key, kept in this gateway replica's memory."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the bucket is full again
    retry_after: int  # until one request is allowed (0 when allowed)


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self, now: float) -> Decision:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        allowed = self.tokens >= 1
        if allowed:
            self.tokens -= 1
        missing = self.burst - self.tokens
        return Decision(
            allowed=allowed,
            limit=self.burst,
            remaining=int(self.tokens),
            reset_seconds=math.ceil(missing / self.rate) if self.rate else 0,
            retry_after=0 if allowed else max(1, math.ceil((1 - self.tokens) / self.rate)),
        )


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, key_id: str, rate: float, burst: int) -> Decision:
        bucket = self._buckets.get(key_id)
        if bucket is None or (bucket.rate, bucket.burst) != (rate, burst):
            bucket = self._buckets[key_id] = TokenBucket(rate, burst)
        return bucket.take(time.monotonic())
