"""A deploy's state machine: created -> build_in_progress -> live | build_failed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from devnets.images import ImagePullError, resolve
from devnets.render.clock import now
from devnets.render.logstore import LogStore
from devnets.render.model import Deploy, DeployStatus, Service

INJECTED_FAILURE = "==> Build failed: image pull failed (injected by the devnet)"


@dataclass(frozen=True)
class DeployTimings:
    """Seconds spent `created` and `build_in_progress` (0 in zero-delay mode)."""

    queue_seconds: float
    build_seconds: float


def pull_error(image_path: str) -> str | None:
    """Why the image cannot be pulled, or None; uses the runner's image table."""
    try:
        resolve(image_path, None, None, [])
    except ImagePullError as exc:
        return exc.reason
    return None


async def run_deploy(
    service: Service,
    deploy: Deploy,
    timings: DeployTimings,
    logs: LogStore,
    fail: Callable[[], bool],
) -> None:
    """Walk the deploy through its states, writing build logs like Render's `==>` lines."""

    def log(message: str, level: str = "info") -> None:
        labels = {"resource": service.id, "instance": deploy.id, "level": level, "type": "build"}
        logs.append(service.owner_id, message, labels, {service.id, deploy.id})

    if timings.queue_seconds:
        await asyncio.sleep(timings.queue_seconds)
    _move(deploy, "build_in_progress")
    log(f'==> Pulling image "{deploy.image_path}"')
    if timings.build_seconds:
        await asyncio.sleep(timings.build_seconds)
    reason = INJECTED_FAILURE if fail() else pull_error(deploy.image_path)
    if reason is not None:
        log(reason, "error")
        _move(deploy, "build_failed", final=True)
        return
    log(f'==> Successfully pulled image "{deploy.image_path}"')
    for older in service.deploys:
        if older is not deploy and older.status == "live":
            _move(older, "deactivated")
    _move(deploy, "live", final=True)
    log("==> Your service is live 🎉")


def _move(deploy: Deploy, status: DeployStatus, final: bool = False) -> None:
    deploy.status = status
    deploy.updated_at = now()
    if final:
        deploy.finished_at = deploy.updated_at
