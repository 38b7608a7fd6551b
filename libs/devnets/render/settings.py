"""Settings of the Render devnet: instance types with prices, delays, owner and limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

MIB = 1024**2
HOURS_PER_MONTH = 730  # Render prorates monthly prices per second over ~730 hours
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
REGIONS = ("oregon", "ohio", "virginia", "frankfurt", "singapore")


class Plan(BaseModel):
    """One instance type (`plan` / `planId`): its size and monthly price in USD."""

    id: str
    cpu: float = Field(description="CPU cores")
    memory_mb: int
    usd_per_month: float

    @property
    def usd_per_second(self) -> float:
        """Per-second price: Render bills jobs per second at the monthly rate / 730 h."""
        return self.usd_per_month / SECONDS_PER_MONTH

    @property
    def cpu_millicores(self) -> int:
        """CPU in millicores (what the workload runner takes)."""
        return round(self.cpu * 1000)

    @property
    def memory_bytes(self) -> int:
        """Memory in bytes."""
        return self.memory_mb * MIB


def default_plans() -> dict[str, Plan]:
    """render.com's paid instance types (prices from a copy of render.com/pricing)."""
    table = [
        ("starter", 0.5, 512, 7.0),
        ("standard", 1.0, 2048, 25.0),
        ("pro", 2.0, 4096, 85.0),
        ("pro_plus", 4.0, 8192, 175.0),
        ("pro_max", 4.0, 16384, 225.0),
        ("pro_ultra", 8.0, 32768, 450.0),
    ]
    return {
        name: Plan(id=name, cpu=cpu, memory_mb=mb, usd_per_month=usd)
        for name, cpu, mb, usd in table
    }


class RenderDevnetSettings(BaseModel):
    """Everything the emulator can be told; the defaults behave like a slowish real platform."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = ephemeral; RenderDevnet.url shows the real one
    api_key: str = "devnet-api-key"
    work_dir: Path | None = None  # per-job directories go here; None = a temp dir
    owner_id: str = "tea-devnetowner000000000"
    owner_name: str = "Devnet Team"
    owner_email: str = "devnet@example.invalid"
    plans: dict[str, Plan] = Field(default_factory=default_plans)
    regions: list[str] = Field(default_factory=lambda: list(REGIONS))
    zero_delay: bool = False  # deploys go live and jobs start at once (tests)
    deploy_queue_seconds: float = 1.0  # `created` before `build_in_progress`
    deploy_build_seconds: float = 3.0  # `build_in_progress` before `live` / `build_failed`
    job_start_seconds: float = 2.0  # `pending` before `running` (instance spin-up)
    metrics_interval_seconds: float = 1.0  # how often running jobs' usage is sampled
    allow_jobs_when_suspended: bool = True  # unconfirmed on the real platform: switchable
    enforce_memory_limit: bool = False  # RLIMIT_AS = plan memory; breaks some runtimes
    stop_grace_seconds: float = 3.0  # SIGTERM -> SIGKILL on cancel / delete / shutdown
    log_capacity: int = 200_000  # log entries kept (all resources together)
    random_seed: int | None = None  # for apiErrorRate / rateLimitRate draws

    def delay(self, seconds: float) -> float:
        """A configured delay, or 0 in zero-delay mode."""
        return 0.0 if self.zero_delay else seconds
