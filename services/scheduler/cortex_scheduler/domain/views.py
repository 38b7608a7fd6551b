"""The job object exactly as the API shows it (seed's shape, camelCase, `Z` times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.timefmt import format_time
from cortex_scheduler.domain.model import Job, JobEvent

_CONFIG_KEYS = ("env", "ports", "volumes", "command", "args", "gpu")
OUTPUT_URL = "/api/plugin-core/jobs/{id}/output"  # the gateway's download of the job's output


def _cost(job: Job, now: datetime) -> dict[str, Any]:
    cost: dict[str, Any] = {
        "current": round(job.cost_usd(now), 6),
        "projected": None if job.projected_cost_usd is None else round(job.projected_cost_usd, 6),
        "currency": "USD",
    }
    if job.status.is_terminal:
        cost["final"] = cost["current"]
    return cost


def summary(job: Job, now: datetime) -> dict[str, Any]:
    """The job as list items show it."""
    spec = job.spec
    return {
        "id": job.id,
        "provider": job.provider,
        "status": job.status.value,
        "image": spec["image"],
        "cpu": spec["cpu"],
        "memory": spec["memory"],
        "storage": spec["storage"],
        "duration": spec["duration"],
        "createdAt": format_time(job.created_at),
        "startedAt": format_time(job.started_at),
        "endedAt": format_time(job.ended_at),
        "cost": _cost(job, now),
        "reason": job.reason,
        "batchId": job.batch_id,
        "templateId": job.template_id,
        "scheduleId": job.schedule_id,
    }


def config(job: Job) -> dict[str, Any]:
    return {key: job.spec[key] for key in _CONFIG_KEYS if job.spec.get(key) not in (None, [], {})}


def detail(job: Job, now: datetime, events: list[JobEvent] | None = None) -> dict[str, Any]:
    """The job as `GET /jobs/:id` shows it: with config, results and (when given) events."""
    view = summary(job, now)
    view["config"] = config(job)
    output = OUTPUT_URL.format(id=job.id) if job.status.is_terminal else None
    view["results"] = {"exitCode": job.exit_code, "outputUrl": output}
    if events is not None:
        view["events"] = [event_view(e) for e in events]
    return view


def event_view(event: JobEvent) -> dict[str, Any]:
    view: dict[str, Any] = {"type": event.type.value, "timestamp": format_time(event.at)}
    view.update({k: v for k, v in event.data.items() if v is not None})
    return view
