"""What is asked of a provider service directly (request/reply)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from provider_runtime.history import History
from provider_runtime.model import DeploymentState
from provider_runtime.network import ExtendRefused, Network, NetworkError
from provider_runtime.store import DeploymentStore
from runtime.messaging import serve_rpc


async def serve(
    nc: NATS, network: Network, store: DeploymentStore, history: History
) -> list[Subscription]:
    """Extend a running job; the network's metrics and price history for the Providers API."""

    async def extend(body: dict[str, Any]) -> Any:
        job_id, total = str(body["jobId"]), int(body["duration"])
        deployment = await store.get(job_id)
        if deployment is None or deployment.state not in (
            DeploymentState.PLACED,
            DeploymentState.RUNNING,
        ):
            raise _conflict(job_id, f"the job holds nothing running on {network.name}")
        try:
            return await network.extend(deployment, total)
        except ExtendRefused as exc:
            raise _conflict(job_id, exc.reason) from None
        except NetworkError as exc:
            raise ApiError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"{network.name} did not accept the extension: {exc.message}",
            ) from None

    async def metrics(body: dict[str, Any]) -> Any:
        period = timedelta(seconds=int(body["periodSeconds"]))
        resolution = timedelta(seconds=int(body["resolutionSeconds"]))
        return await history.metrics(period, resolution)

    async def pricing(body: dict[str, Any]) -> Any:
        return {f"{days}d": await history.price_stats(timedelta(days=days)) for days in (7, 30)}

    group = f"provider-{network.name}"
    return [
        await serve_rpc(nc, subjects.provider_rpc(network.name, verb), handler, group)
        for verb, handler in (("extend", extend), ("metrics", metrics), ("pricing", pricing))
    ]


def _conflict(job_id: str, reason: str) -> ApiError:
    return ApiError(
        ErrorCode.PROVIDER_CONFLICT, f"Cannot extend job {job_id}: {reason}", {"reason": reason}
    )
