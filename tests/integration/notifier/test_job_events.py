"""A real job through the whole stack: its lifecycle events reach the tenant's webhook."""

from __future__ import annotations

from pathlib import Path

from contracts.signatures import verify
from embedded.nats import NatsServer
from runtime import codec
from tests.integration.notifier.env import WEBHOOKS, Receiver, wait_until
from tests.integration.stack import start_stack, stop_stack


async def test_job_completed_reaches_the_webhook(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    receiver = Receiver()
    await receiver.start()
    stack = await start_stack(nats_server.url, database_url, tmp_path, notifier=True)
    try:
        body = {"name": "jobs", "url": receiver.url("jobs"), "events": ["job.*"]}
        status, _, answer = await stack.call("POST", WEBHOOKS, json=body)
        assert status == 201, answer
        hook = answer["data"]
        job = await stack.submit(command=["sh", "-c", "echo hi"])
        await stack.wait_for(job["id"], {"completed"})

        def types() -> list[str]:
            return [codec.loads(h.body)["type"] for h in receiver.hits("jobs")]

        await wait_until(lambda: "job.completed" in types())
        assert {"job.created", "job.scheduled", "job.started", "job.completed"} <= set(types())
        completed = next(h for h in receiver.hits("jobs") if b'"job.completed"' in h.body)
        verify(hook["secret"], completed.headers, completed.body)
        payload = codec.loads(completed.body)
        assert payload["data"]["job"]["id"] == job["id"]
        assert payload["data"]["job"]["status"] == "completed"
    finally:
        await stop_stack(stack)
        await receiver.stop()


async def test_batch_and_provider_admin_events_reach_webhooks(
    nats_server: NatsServer, database_url: str, tmp_path: Path
) -> None:
    receiver = Receiver()
    await receiver.start()
    stack = await start_stack(nats_server.url, database_url, tmp_path, notifier=True)
    try:
        body = {"name": "ops", "url": receiver.url("ops"), "events": ["batch.*", "provider.*"]}
        status, _, answer = await stack.call("POST", WEBHOOKS, json=body)
        assert status == 201, answer
        spec = {
            "provider": "akash", "image": "alpine:3.20", "cpu": 100, "memory": "32Mi",
            "storage": "64Mi", "duration": 60, "command": ["true"],
        }  # fmt: skip
        status, _, answer = await stack.call(
            "POST", "/api/plugin-core/jobs/batch", json={"jobs": [spec, spec], "concurrency": 1}
        )
        assert status in (200, 201, 202), answer
        status, _, answer = await stack.call(
            "PUT", "/api/plugin-core/providers/akash", json={"config": {"bidCollect": 0.0}}
        )
        assert status == 200, answer

        def types() -> list[str]:
            return [codec.loads(h.body)["type"] for h in receiver.hits("ops")]

        await wait_until(lambda: {"batch.completed", "provider.updated"} <= set(types()))
        assert "batch.created" in types()
        assert not [t for t in types() if t.startswith("job.")]
    finally:
        await stop_stack(stack)
        await receiver.stop()
