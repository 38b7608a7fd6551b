"""Scheduler settings (`CORTEX_*`)."""

from __future__ import annotations

from runtime.settings import ServiceSettings


class SchedulerSettings(ServiceSettings):
    service_name: str = "scheduler"
    providers: str = "akash"
    # A cancel the network never confirms still ends the job after this long.
    cancel_timeout: float = 60.0
    timer_interval: float = 0.5
    max_duration_seconds: int = 30 * 24 * 3600
    # Fractions of a job's projected cost announced as job.cost.threshold when crossed.
    cost_thresholds: str = "0.5,0.8,1.0"
    cost_check_interval: float = 5.0
    outbox_batch: int = 500
    outbox_poll_interval: float = 0.2
    create_batch: int = 256
    report_batch: int = 64
    # TELEMETRY messages stored per statement (each log message holds many lines).
    telemetry_batch: int = 256
    # Each job keeps its newest this many log lines; older ones are deleted as new ones come.
    log_retention_lines: int = 100_000

    @property
    def cost_threshold_list(self) -> list[float]:
        return sorted(float(t) for t in self.cost_thresholds.split(",") if t.strip())

    @property
    def provider_set(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.providers.split(",") if p.strip())
