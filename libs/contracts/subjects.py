"""NATS streams and subjects: a public, versioned API (see docs/architecture.md)."""

from __future__ import annotations

# Request/reply to the service that owns the data (queue groups spread replicas).
RPC_JOB_CREATE = "cortex.rpc.job.create"
# Many single creates in one request: the gateway coalesces concurrent `POST /jobs`.
RPC_JOB_CREATE_MANY = "cortex.rpc.job.create_many"
RPC_JOB_GET = "cortex.rpc.job.get"
RPC_JOB_LIST = "cortex.rpc.job.list"
RPC_JOB_CANCEL = "cortex.rpc.job.cancel"
RPC_JOB_EXTEND = "cortex.rpc.job.extend"
RPC_JOB_LOGS = "cortex.rpc.job.logs"
RPC_JOB_METRICS = "cortex.rpc.job.metrics"
RPC_BATCH_CREATE = "cortex.rpc.batch.create"
RPC_BATCH_GET = "cortex.rpc.batch.get"
RPC_BATCH_CANCEL = "cortex.rpc.batch.cancel"
RPC_TEMPLATE_CREATE = "cortex.rpc.template.create"
RPC_TEMPLATE_LIST = "cortex.rpc.template.list"
RPC_TEMPLATE_GET = "cortex.rpc.template.get"
RPC_TEMPLATE_UPDATE = "cortex.rpc.template.update"
RPC_TEMPLATE_DELETE = "cortex.rpc.template.delete"
RPC_SCHEDULE_CREATE = "cortex.rpc.schedule.create"
RPC_SCHEDULE_LIST = "cortex.rpc.schedule.list"
RPC_SCHEDULE_GET = "cortex.rpc.schedule.get"
RPC_SCHEDULE_UPDATE = "cortex.rpc.schedule.update"
RPC_SCHEDULE_DELETE = "cortex.rpc.schedule.delete"
RPC_SCHEDULE_PAUSE = "cortex.rpc.schedule.pause"
RPC_SCHEDULE_RESUME = "cortex.rpc.schedule.resume"

# Webhooks and their deliveries, answered by the notifier (queue group `notifier`).
RPC_WEBHOOK_CREATE = "cortex.rpc.webhook.create"
RPC_WEBHOOK_LIST = "cortex.rpc.webhook.list"
RPC_WEBHOOK_GET = "cortex.rpc.webhook.get"
RPC_WEBHOOK_UPDATE = "cortex.rpc.webhook.update"
RPC_WEBHOOK_DELETE = "cortex.rpc.webhook.delete"
RPC_WEBHOOK_TEST = "cortex.rpc.webhook.test"
RPC_WEBHOOK_HISTORY = "cortex.rpc.webhook.history"
RPC_WEBHOOK_RETRY = "cortex.rpc.webhook.retry"

# Work for the provider services: stream PROVIDER_WORK, one durable consumer per network.
PROVIDER_WORK_STREAM = "PROVIDER_WORK"
PROVIDER_WORK_SUBJECTS = "cortex.provider.>"

# What provider services report back: stream REPORTS, consumed by the scheduler.
REPORTS_STREAM = "REPORTS"
REPORTS_SUBJECTS = "cortex.report.>"

# Public events: stream EVENTS.
EVENTS_STREAM = "EVENTS"
EVENTS_SUBJECTS = "cortex.events.>"

# Job telemetry from provider services: stream TELEMETRY (limits retention, so any service
# may read it; the scheduler stores it). Log batches and usage samples, one subject per job.
TELEMETRY_STREAM = "TELEMETRY"
LOGS_PREFIX = "cortex.logs"
METRICS_PREFIX = "cortex.metrics"
TELEMETRY_SUBJECTS = [f"{LOGS_PREFIX}.>", f"{METRICS_PREFIX}.>"]

# Liveness of every service instance (core NATS, not persisted).
HEARTBEAT_PREFIX = "cortex.heartbeat"

# Latest price of each network, one key per network (JetStream key-value bucket).
PRICES_BUCKET = "cortex-prices"

# Latest health of each network as its provider service sees it, one key per network.
PROVIDER_STATUS_BUCKET = "cortex-provider-status"


def provider_work(network: str, verb: str) -> str:
    """`cortex.provider.akash.deploy`; verbs: deploy, cancel."""
    return f"cortex.provider.{network}.{verb}"


def job_report(network: str, job_id: str, kind: str) -> str:
    """`cortex.report.akash.job.job_123.status`."""
    return f"cortex.report.{network}.job.{job_id}.{kind}"


def report_group(network: str) -> str:
    """`cortex.report.akash.group`: several jobs' reports in one message (see ReportGroup)."""
    return f"cortex.report.{network}.group"


def is_report_group(subject: str) -> bool:
    """Whether a REPORTS subject carries a ReportGroup (a single job's ends in `.status`)."""
    return subject.endswith(".group")


def job_event(job_id: str, event_type: str) -> str:
    """`cortex.events.job.job_123.completed` for `job.completed` (`cost_threshold` for
    `job.cost.threshold`: one token, so `cortex.events.job.<id>.*` matches every event)."""
    return f"cortex.events.job.{job_id}.{event_type.removeprefix('job.').replace('.', '_')}"


def resource_event(kind: str, resource_id: str, event_type: str) -> str:
    """`cortex.events.batch.bat_123.completed` for `batch.completed`; kinds: batch, template,
    schedule (the type's dots after the kind become `_`, one token like job events)."""
    verb = event_type.removeprefix(f"{kind}.").replace(".", "_")
    return f"cortex.events.{kind}.{resource_id}.{verb}"


def provider_event(network: str, event_type: str) -> str:
    """`cortex.events.provider.akash.status.changed` for `provider.status.changed`."""
    return f"cortex.events.provider.{network}.{event_type.removeprefix('provider.')}"


def provider_rpc(network: str, verb: str) -> str:
    """`cortex.rpc.provider.akash.extend`: asked of a provider service, answered at once."""
    return f"cortex.rpc.provider.{network}.{verb}"


def job_logs(job_id: str) -> str:
    """`cortex.logs.job_123`: batches of the job's log records."""
    return f"{LOGS_PREFIX}.{job_id}"


def job_metrics(job_id: str) -> str:
    """`cortex.metrics.job_123`: the job's usage samples."""
    return f"{METRICS_PREFIX}.{job_id}"


def heartbeat(service: str) -> str:
    return f"{HEARTBEAT_PREFIX}.{service}"


# Core NATS (not stored): a webhook was created; every notifier replica starts reading
# EVENTS again if it had stopped for want of webhooks.
WEBHOOKS_CHANGED = "cortex.control.notifier.webhooks"
