"""Settings of the Golem devnet: simulated providers, their linear prices and delays."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

DURATION_SEC = "golem.usage.duration_sec"
CPU_SEC = "golem.usage.cpu_sec"


class GolemProviderSettings(BaseModel):
    """One simulated provider node: linear prices in GLM, capacity and offer delay."""

    node_id: str
    name: str
    start_price: Decimal = Field(description="GLM once per activity (the constant coefficient)")
    cpu_sec_price: Decimal = Field(description="GLM per CPU-second used")
    env_sec_price: Decimal = Field(description="GLM per second of activity wall time")
    # Order of golem.com.usage.vector; providers differ so clients must look indexes up by name.
    usage_vector: list[str] = Field(default_factory=lambda: [DURATION_SEC, CPU_SEC])
    offer_delay_seconds: float = 2.0
    cpu_threads: int = 4
    memory_gib: float = 8.0
    storage_gib: float = 50.0
    max_agreements: int = 4  # approved agreements it holds at once (its capacity)
    subnet: str = "public"

    def coeffs(self) -> list[Decimal]:
        """`golem.com.pricing.model.linear.coeffs`: one per usage entry, then the start price."""
        per_usage = {DURATION_SEC: self.env_sec_price, CPU_SEC: self.cpu_sec_price}
        return [per_usage[name] for name in self.usage_vector] + [self.start_price]


def default_providers() -> list[GolemProviderSettings]:
    """Three providers: cheap and slow, middle, expensive and fast."""
    return [
        GolemProviderSettings(
            node_id="0x" + "a1" * 20,
            name="devnet-cheap",
            start_price=Decimal("0"),
            cpu_sec_price=Decimal("0.0001"),
            env_sec_price=Decimal("0.00002"),
            offer_delay_seconds=6.0,
            cpu_threads=4,
            memory_gib=8,
            storage_gib=50,
        ),
        GolemProviderSettings(
            node_id="0x" + "b2" * 20,
            name="devnet-middle",
            start_price=Decimal("0.001"),
            cpu_sec_price=Decimal("0.00015"),
            env_sec_price=Decimal("0.00003"),
            usage_vector=[CPU_SEC, DURATION_SEC],
            offer_delay_seconds=3.0,
            cpu_threads=8,
            memory_gib=16,
            storage_gib=100,
        ),
        GolemProviderSettings(
            node_id="0x" + "c3" * 20,
            name="devnet-premium",
            start_price=Decimal("0.01"),
            cpu_sec_price=Decimal("0.0003"),
            env_sec_price=Decimal("0.00005"),
            offer_delay_seconds=1.0,
            cpu_threads=16,
            memory_gib=64,
            storage_gib=500,
        ),
    ]


class GolemDevnetSettings(BaseModel):
    """Everything the emulator can be told; the defaults behave like a small live market."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = ephemeral; GolemDevnet.url shows the real one
    app_key: str = "devnet-app-key"
    work_dir: Path | None = None  # per-activity directories; None = a temp dir
    providers: list[GolemProviderSettings] = Field(default_factory=default_providers)
    zero_delay: bool = False  # offers, approvals and deploys happen at once (tests)
    approve_delay_seconds: float = 0.5  # provider signs a confirmed agreement after this
    deploy_seconds: float = 1.0  # `deploy` "downloads" the image for this long
    payment_platform: str = "erc20-polygon-glm"
    requestor_address: str = "0x" + "de" * 20
    balance_glm: Decimal = Decimal("1000")  # allocations cannot reserve more than this
    # None = the demand's golem.com.scheme.payu.debit-note.interval-sec? (default 120 s).
    debit_note_interval_seconds: float | None = None
    default_debit_note_interval_seconds: float = 120.0
    default_debit_note_accept_timeout_seconds: float = 120.0
    usage_sample_seconds: float = 0.25  # CPU time of running processes is integrated this often
    activity_id_shape: Literal["object", "string"] = "object"  # "string" = older daemons
    stop_grace_seconds: float = 3.0
    # RLIMIT_AS per `run` at the VM's memory (the offer's golem.inf.mem.gib); breaks some runtimes.
    enforce_memory_limit: bool = False
    random_seed: int | None = None  # for apiErrorRate / rateLimitRate draws
    # Destroyed activities stay queryable, the most recent this many (a daemon running for
    # days must not keep them all). Their processes' own copies of the output and their
    # directories go at once; the batches' results stay with the activity.
    ended_retention: int = Field(default=10_000, ge=0)

    def delay(self, seconds: float) -> float:
        """A configured delay, or 0 in zero-delay mode."""
        return 0.0 if self.zero_delay else seconds
