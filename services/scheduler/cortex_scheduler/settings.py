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
    # Idempotency-Key records are kept this long (and then deleted).
    idempotency_ttl: float = 24 * 3600
    # How often due schedules are looked for, and how far back missed due times are caught up.
    schedule_interval: float = 1.0
    schedule_catch_up_window: float = 3600.0
    # How often batches with waiting jobs are re-checked for free slots (after crashes).
    batch_sweep_interval: float = 2.0
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
