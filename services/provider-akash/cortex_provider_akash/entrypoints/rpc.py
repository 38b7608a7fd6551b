"""What the scheduler asks provider-akash directly (request/reply): extend a running lease."""

from __future__ import annotations

import math
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from cortex_provider_akash.adapters.console import ConsoleClient, ConsoleError
from cortex_provider_akash.adapters.store import DeploymentStore
from cortex_provider_akash.domain.model import DeploymentState
from cortex_provider_akash.entrypoints.work import NETWORK
from runtime.messaging import serve_rpc

MIN_DEPOSIT_USD = 0.5


async def serve(nc: NATS, store: DeploymentStore, console: ConsoleClient) -> Subscription:
    async def extend(body: dict[str, Any]) -> Any:
        """Akash: fund the escrow for the extra time, within the deployment's runtime limit
        (set from the job's duration at creation; raising it is not part of the Console API
        we can rely on, so a longer run needs a new deployment: 409)."""
        job_id, total = str(body["jobId"]), int(body["duration"])
        deployment = await store.get(job_id)
        if (
            deployment is None
            or deployment.dseq is None
            or deployment.state
            not in (
                DeploymentState.LEASED,
                DeploymentState.RUNNING,
            )
        ):
            raise _conflict(job_id, "the job holds no active Akash lease")
        assert deployment.spec is not None
        limit_hours = max(1, math.ceil(int(deployment.spec["duration"]) / 3600))
        if total > limit_hours * 3600:
            raise _conflict(
                job_id,
                f"the Akash deployment was created with a runtime limit of {limit_hours} h; "
                f"running {total} s needs a new deployment",
            )
        extra_hours = max(total - int(deployment.spec["duration"]), 0) / 3600
        deposit = max(MIN_DEPOSIT_USD, round((deployment.hourly_rate_usd or 0) * extra_hours, 6))
        try:
            await console.call(
                "POST",
                "/v1/deposit-deployment",
                {"data": {"dseq": deployment.dseq, "deposit": deposit}},
            )
        except ConsoleError as exc:
            raise ApiError(
                ErrorCode.PROVIDER_UNAVAILABLE, f"Akash did not accept the deposit: {exc.message}"
            ) from None
        return {"duration": total, "depositUsd": deposit, "dseq": deployment.dseq}

    return await serve_rpc(
        nc, subjects.provider_rpc(NETWORK, "extend"), extend, f"provider-{NETWORK}"
    )


def _conflict(job_id: str, reason: str) -> ApiError:
    return ApiError(
        ErrorCode.PROVIDER_CONFLICT, f"Cannot extend job {job_id}: {reason}", {"reason": reason}
    )
