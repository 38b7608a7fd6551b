"""Carry `request_id` and `job_id` from the HTTP request through NATS headers into logs."""

from __future__ import annotations

import os

import structlog

REQUEST_ID_HEADER = "Cortex-Request-Id"
JOB_ID_HEADER = "Cortex-Job-Id"
# The tenant a public job event belongs to (the notifier routes webhooks by it).
TENANT_HEADER = "Cortex-Tenant"


def new_request_id() -> str:
    return f"req_{os.urandom(8).hex()}"


def headers_for(request_id: str | None = None, job_id: str | None = None) -> dict[str, str]:
    """NATS headers naming the request (and job) a message belongs to."""
    headers: dict[str, str] = {}
    context = structlog.contextvars.get_contextvars()
    request_id = request_id or context.get("request_id")
    job_id = job_id or context.get("job_id")
    if request_id:
        headers[REQUEST_ID_HEADER] = str(request_id)
    if job_id:
        headers[JOB_ID_HEADER] = str(job_id)
    return headers


def bind_from_headers(headers: dict[str, str] | None) -> None:
    """Bind the ids a message carries to this task's log context."""
    structlog.contextvars.unbind_contextvars("request_id", "job_id")
    if not headers:
        return
    if REQUEST_ID_HEADER in headers:
        structlog.contextvars.bind_contextvars(request_id=headers[REQUEST_ID_HEADER])
    if JOB_ID_HEADER in headers:
        structlog.contextvars.bind_contextvars(job_id=headers[JOB_ID_HEADER])
