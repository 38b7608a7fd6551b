"""Settings of the Akash devnet: simulated providers, prices, delays and the block clock."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

GIB = 1024**3
AVERAGE_BLOCK_SECONDS = 6.174  # what Console uses to turn per-block prices into time


class ProviderSettings(BaseModel):
    """One simulated provider: its prices (uact per block), capacity and bid delay."""

    address: str
    cpu_uact: float = Field(description="uact per block per CPU core")
    memory_uact: float = Field(description="uact per block per GiB of memory")
    storage_uact: float = Field(description="uact per block per GiB of storage")
    bid_delay_seconds: float = 2.0
    cpu_millicores: int = 16_000
    memory_bytes: int = 64 * GIB
    storage_bytes: int = 1024 * GIB
    is_audited: bool = True
    is_online: bool = True
    region: str = "us-west"

    def price_uact(self, cpu_millicores: int, memory_bytes: int, storage_bytes: int) -> int:
        """Bid amount per block for a request (at least 1 uact)."""
        raw = (
            self.cpu_uact * cpu_millicores / 1000
            + self.memory_uact * memory_bytes / GIB
            + self.storage_uact * storage_bytes / GIB
        )
        return max(1, round(raw))


def default_providers() -> list[ProviderSettings]:
    """Three providers: cheap and slow, middle, expensive and fast."""
    return [
        ProviderSettings(
            address="akash1devnetprovidercheap0000000000000000000",
            cpu_uact=80,
            memory_uact=20,
            storage_uact=2,
            bid_delay_seconds=8.0,
        ),
        ProviderSettings(
            address="akash1devnetprovidermiddle000000000000000000",
            cpu_uact=110,
            memory_uact=30,
            storage_uact=3,
            bid_delay_seconds=4.0,
            region="eu-central",
        ),
        ProviderSettings(
            address="akash1devnetproviderpremium00000000000000000",
            cpu_uact=160,
            memory_uact=45,
            storage_uact=4,
            bid_delay_seconds=1.5,
            is_audited=False,
            region="ap-southeast",
        ),
    ]


class AkashDevnetSettings(BaseModel):
    """Everything the emulator can be told; the defaults behave like a small live network."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 = ephemeral; AkashDevnet.url shows the real one
    gateway_port: int = 0  # the providers' gateways (Console's providers/{address} hostUri)
    api_key: str = "devnet-api-key"
    work_dir: Path | None = None  # per-workload directories go here; None = a temp dir
    owner: str = "akash1devnetowner000000000000000000000000000"
    providers: list[ProviderSettings] = Field(default_factory=default_providers)
    zero_delay: bool = False  # bids appear at once (tests)
    block_seconds: float = AVERAGE_BLOCK_SECONDS
    acceleration: float = 1.0  # simulated blocks run this many times faster than real time
    denom: str = "uact"
    usd_per_token: float = 1.0  # ACT tracks ~1 USD
    finite_funds: bool = False  # False = managed wallet that never runs dry
    default_deposit_usd: float = 5.0
    bid_id_field: Literal["id", "bid_id"] = "id"  # "bid_id" = older spelling, without bseq
    enforce_memory_limit: bool = False  # RLIMIT_AS per workload; breaks some runtimes
    stop_grace_seconds: float = 3.0
    jwt_secret: str | None = None  # None = random per run
    random_seed: int | None = None  # for apiErrorRate / rateLimitRate draws
    # Closed deployments stay queryable, the most recent this many (the chain keeps them
    # all; an emulator running for days must not). A closed lease's run, its logs and its
    # workload directories go at once, as a provider drops a closed lease's pods.
    closed_retention: int = Field(default=10_000, ge=0)

    @property
    def real_block_seconds(self) -> float:
        """Wall-clock seconds per simulated block."""
        return self.block_seconds / self.acceleration
