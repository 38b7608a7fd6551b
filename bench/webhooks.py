"""Webhook delivery throughput and event-to-receipt delay, with one endpoint hanging.

Starts NATS and PostgreSQL (durable, fsync on), runs the notifier as its own process
(`python -m cortex_notifier`), registers 10 webhooks on a local receiver (one of them answers
only after 60 s, past the 10 s timeout), publishes `--events` job events at `--rate` events/s
to the EVENTS stream, and reports, as JSON: healthy deliveries/s, p50/p99/max delay from the
event's publication to its receipt, and how many requests the hanging endpoint got.
Usage: python bench/webhooks.py [--events 1000] [--rate 100] [--hang] [--out bench/results/webhooks.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from contracts import subjects
from contracts.events import envelope, new_event_id
from contracts.timefmt import utcnow
from embedded.nats import NatsServer
from embedded.postgres import PostgresServer
from runtime import codec
from runtime.messaging import BatchPublisher, call_rpc, connect
from runtime.secretbox import generate_key
from runtime.tracing import TENANT_HEADER

ENDPOINTS = 10


class Receiver:
    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.delays: list[float] = []
        self.hung = 0
        self.first = self.last = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.match_info["name"] == "hang" and self.hang:
            self.hung += 1
            await asyncio.sleep(60)
            return web.Response(status=200)
        now = time.time()
        sent = codec.loads(body)["data"]["sentAt"]
        self.delays.append(now - sent)
        self.first = self.first or now
        self.last = now
        return web.Response(status=200)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


async def run(events: int, rate: float, hang: bool, work: Path) -> dict[str, Any]:
    nats = NatsServer.start(work / "nats")
    postgres = PostgresServer.start(work / "postgres")
    receiver = Receiver(hang)
    app = web.Application()
    app.router.add_post("/{name}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    env = {
        **os.environ,
        "CORTEX_NATS_URL": nats.url,
        "CORTEX_DATABASE_URL": postgres.dsn(),
        "CORTEX_SECRETS_KEY": generate_key(),
        "CORTEX_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "CORTEX_LOG_LEVEL": "warning",
    }
    notifier = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cortex_notifier", env=env
    )
    nc = await connect(nats.url, "bench")
    try:
        names = ["hang"] + [f"ok{n}" for n in range(ENDPOINTS - 1)]
        for name in names:
            body = {"name": name, "url": f"http://127.0.0.1:{port}/{name}", "events": ["job.*"]}
            for _ in range(100):  # the notifier may still be starting
                try:
                    await call_rpc(
                        nc, subjects.RPC_WEBHOOK_CREATE, {"tenant": "bench", "body": body}
                    )
                    break
                except Exception:
                    await asyncio.sleep(0.2)
        expected = events * (ENDPOINTS - 1 if hang else ENDPOINTS)
        started = time.time()
        tick = 0.01  # publish in small batches every 10 ms to hold the rate
        per_tick = max(1, round(rate * tick))
        published = 0
        publisher = BatchPublisher(nc)
        while published < events:
            batch = []
            for _ in range(min(per_tick, events - published)):
                event_id = new_event_id()
                data = {"sentAt": time.time(), "job": {"id": "job_bench"}}
                payload = codec.dumps(envelope(event_id, "job.completed", utcnow(), data))
                headers = {"Nats-Msg-Id": event_id, TENANT_HEADER: "bench"}
                batch.append((subjects.job_event("job_bench", "job.completed"), payload, headers))
            await publisher.publish(batch)
            published += len(batch)
            await asyncio.sleep(max(0.0, started + published / rate - time.time()))
        deadline = time.time() + 120
        while len(receiver.delays) < expected and time.time() < deadline:
            await asyncio.sleep(0.05)
        delivered = len(receiver.delays)
        span = max(receiver.last - started, 1e-9)
        return {
            "events": events,
            "rate": rate,
            "endpoints": ENDPOINTS,
            "hangingEndpoint": hang,
            "healthyEndpoints": ENDPOINTS - 1 if hang else ENDPOINTS,
            "healthyDeliveries": delivered,
            "expected": expected,
            "deliveriesPerSecond": round(delivered / span, 1),
            "delayMs": {
                "p50": round(percentile(receiver.delays, 50) * 1000, 1),
                "p99": round(percentile(receiver.delays, 99) * 1000, 1),
                "max": round(max(receiver.delays, default=0) * 1000, 1),
            },
            "requestsToHangingEndpoint": receiver.hung,
        }
    finally:
        notifier.terminate()
        await notifier.wait()
        await nc.close()
        await runner.cleanup()
        postgres.stop()
        nats.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--hang", action="store_true", help="one endpoint hangs")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cortex-bench-webhooks-") as work:
        result = asyncio.run(run(args.events, args.rate, args.hang, Path(work)))
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
