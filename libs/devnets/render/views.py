"""JSON documents the API answers with (Render's field names)."""

from __future__ import annotations

import hashlib
from typing import Any

from devnets.render.clock import iso, now
from devnets.render.model import Deploy, Job, Service

DASHBOARD = "https://dashboard.render.com/worker/"


def service_view(service: Service) -> dict[str, Any]:
    """A service as `GET /services/{id}` returns it."""
    details: dict[str, Any] = {
        "env": "image",
        "runtime": "image",
        "plan": service.plan.id,
        "region": service.region,
        "numInstances": service.num_instances,
        "envSpecificDetails": {"dockerCommand": service.docker_command or ""},
        "pullRequestPreviewsEnabled": "no",
    }
    return {
        "id": service.id,
        "name": service.name,
        "ownerId": service.owner_id,
        "type": "background_worker",
        "imagePath": service.image_path,
        "autoDeploy": "no",
        "branch": None,
        "repo": None,
        "rootDir": "",
        "slug": service.name,
        "dashboardUrl": DASHBOARD + service.id,
        "notifyOnFail": "default",
        "suspended": "suspended" if service.suspended else "not_suspended",
        "suspenders": ["user"] if service.suspended else [],
        "createdAt": iso(service.created_at),
        "updatedAt": iso(service.updated_at),
        "serviceDetails": details,
    }


def deploy_view(deploy: Deploy) -> dict[str, Any]:
    """A deploy as `GET /services/{id}/deploys/{deployId}` returns it."""
    digest = hashlib.sha256(deploy.image_path.encode()).hexdigest()
    return {
        "id": deploy.id,
        "status": deploy.status,
        "trigger": "api",
        "image": {"ref": deploy.image_path, "sha": f"sha256:{digest}"},
        "createdAt": iso(deploy.created_at),
        "updatedAt": iso(deploy.updated_at or deploy.created_at),
        "finishedAt": iso(deploy.finished_at),
    }


def job_view(job: Job) -> dict[str, Any]:
    """A job as `GET /services/{id}/jobs/{jobId}` returns it, plus the `billing` extension."""
    seconds = job.billed_seconds(now())
    return {
        "id": job.id,
        "serviceId": job.service_id,
        "startCommand": job.start_command,
        "planId": job.plan.id,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "status": job.status,
        # Devnet extension: what the job cost so far (final once it has ended).
        "billing": {
            "planId": job.plan.id,
            "usdPerMonth": job.plan.usd_per_month,
            "usdPerSecond": job.plan.usd_per_second,
            "billedSeconds": seconds,
            "costUsd": seconds * job.plan.usd_per_second,
        },
    }
