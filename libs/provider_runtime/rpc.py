"""What the scheduler asks a provider service directly (request/reply): extend a running job."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from provider_runtime.model import DeploymentState
from provider_runtime.network import ExtendRefused, Network, NetworkError
from provider_runtime.store import DeploymentStore
from runtime.messaging import serve_rpc


async def serve(nc: NATS, network: Network, store: DeploymentStore) -> Subscription:
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

    return await serve_rpc(
        nc, subjects.provider_rpc(network.name, "extend"), extend, f"provider-{network.name}"
    )


def _conflict(job_id: str, reason: str) -> ApiError:
    return ApiError(
        ErrorCode.PROVIDER_CONFLICT, f"Cannot extend job {job_id}: {reason}", {"reason": reason}
    )
