"""A closed-loop HTTP load generator, run as its own process: N connections POST one body.

Bounded by count and time, loopback only. Prints one JSON object with what it measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlparse

import aiohttp

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


async def run(
    url: str,
    key: str,
    body: bytes,
    concurrency: int,
    duration: float,
    max_requests: int,
    warmup: float,
) -> dict[str, object]:
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load {host}: loopback only")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        start = time.perf_counter()
        measure_from = start + warmup
        stop_at = measure_from + duration

        async def worker() -> None:
            nonlocal sent
            while sent < max_requests:
                now = time.perf_counter()
                if now >= stop_at:
                    return
                sent += 1
                async with http.post(url, data=body) as response:
                    await response.read()
                    done = time.perf_counter()
                if now >= measure_from:
                    latencies.append(done - now)
                    statuses[response.status] = statuses.get(response.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = min(time.perf_counter(), stop_at) - measure_from
    latencies.sort()
    accepted = sum(n for status, n in statuses.items() if 200 <= status < 300)
    return {
        "url": url,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "requests": len(latencies),
        "accepted": accepted,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "acceptedPerSecond": round(accepted / elapsed, 1) if elapsed > 0 else 0.0,
        "p50Ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99Ms": round(percentile(latencies, 0.99) * 1000, 2),
        "maxMs": round((latencies[-1] if latencies else 0) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default="")
    parser.add_argument("--body", required=True, help="JSON body to POST")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        run(
            args.url,
            args.key,
            args.body.encode(),
            args.concurrency,
            args.duration,
            args.max_requests,
            args.warmup,
        )
    )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
