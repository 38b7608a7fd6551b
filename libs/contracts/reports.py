"""What a provider service tells the scheduler about a job, and what it asks of it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from contracts.events import new_event_id
from contracts.job import JobSpec
from contracts.status import JobEventType


class _Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class ReportKind(StrEnum):
    """Each kind is reported at most once per job, so `<jobId>:<kind>` de-duplicates."""

    SCHEDULED = "scheduled"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    RELEASED = "released"

    @property
    def job_event(self) -> JobEventType:
        return _REPORT_EVENTS[self]


_REPORT_EVENTS = {
    ReportKind.SCHEDULED: JobEventType.SCHEDULED,
    ReportKind.STARTED: JobEventType.STARTED,
    ReportKind.COMPLETED: JobEventType.COMPLETED,
    ReportKind.FAILED: JobEventType.FAILED,
    ReportKind.RELEASED: JobEventType.CANCELLED,
}


class JobReport(_Message):
    """A change of a job on its network, reported by that network's service."""

    id: str = Field(default_factory=new_event_id)
    job_id: str
    network: str
    kind: ReportKind
    at: str
    exit_code: int | None = None
    reason: str | None = None
    # USD per hour of the lease/agreement/instance, known from `scheduled` on.
    hourly_rate_usd: float | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def dedupe_id(self) -> str:
        return f"{self.job_id}:{self.kind.value}"


class ReportGroup(_Message):
    """Reports of several jobs in one REPORTS message, in the order they happened.

    A provider reports in bursts (every deployment in flight sends three), and each message
    costs a store, an ack, a fetch and an ack: one message per burst is most of that saved.
    Items are kept raw here so the receiver parses each on its own (`parse_items`): a
    malformed report spoils only itself, not its group-mates.
    """

    reports: list[dict[str, Any]]

    @staticmethod
    def encode(reports: list[JobReport]) -> bytes:
        """The message body for `reports`, without re-validating each."""
        items = b",".join(r.model_dump_json(by_alias=True).encode() for r in reports)
        return b'{"reports":[' + items + b"]}"

    def parse_items(self) -> tuple[list[JobReport], int]:
        """Its well-formed reports, and how many were malformed."""
        parsed: list[JobReport] = []
        for item in self.reports:
            try:
                parsed.append(JobReport.model_validate(item))
            except ValueError:
                continue
        return parsed, len(self.reports) - len(parsed)


class DeployWork(_Message):
    """Deploy this job on the network."""

    job_id: str
    tenant: str
    spec: JobSpec
    request_id: str | None = None


class CancelWork(_Message):
    """Release everything this job holds on the network (cancel or expiry)."""

    job_id: str
    reason: str
    request_id: str | None = None


class InstanceType(_Message):
    """A fixed size a network sells by the hour (Render's plans)."""

    id: str
    cpu_millicores: int
    memory_bytes: int
    usd_per_hour: float

    def fits(self, spec: JobSpec) -> bool:
        return spec.cpu <= self.cpu_millicores and spec.memory_bytes <= self.memory_bytes


class NetworkPrice(_Message):
    """A network's current price in USD, normalized per resource-hour.

    Networks that sell fixed instance types also list them: a job then costs the smallest type
    that fits it, and the per-resource rates are only the normalized comparison.
    """

    network: str
    cpu_core_hour: float
    memory_gb_hour: float
    storage_gb_hour: float
    gpu_hour: float | None = None
    instance_types: list[InstanceType] = Field(default_factory=list)
    updated_at: str

    def instance_for(self, spec: JobSpec) -> InstanceType | None:
        """The cheapest instance type that fits `spec` (None: none does, or none are sold)."""
        fitting = [t for t in self.instance_types if t.fits(spec)]
        return min(fitting, key=lambda t: t.usd_per_hour) if fitting else None

    def hourly_usd(self, spec: JobSpec) -> float:
        """What `spec` costs per hour at this price (GB = 10^9 bytes)."""
        instance = self.instance_for(spec)
        if instance is not None:
            return instance.usd_per_hour
        rate = (
            spec.cpu / 1000 * self.cpu_core_hour
            + spec.memory_bytes / 1e9 * self.memory_gb_hour
            + spec.storage_bytes / 1e9 * self.storage_gb_hour
        )
        if spec.gpu and self.gpu_hour is not None:
            rate += spec.gpu * self.gpu_hour
        return rate


class NetworkHealth(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"


class ProviderStatus(_Message):
    """A network's health as its provider service measured it; refreshed every few seconds,
    so an entry that stopped changing means the service itself is gone."""

    network: str
    status: NetworkHealth
    latency_ms: float | None
    error_rate: float
    checked_at: str
    message: str | None = None
