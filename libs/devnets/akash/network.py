"""The emulated network: market, block clock, bidding providers and the workloads they run."""

from __future__ import annotations

import asyncio
import math
import secrets
import shutil
import statistics
import time
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

from devnets.akash.faults import Faults
from devnets.akash.lease_run import LeaseRun
from devnets.akash.sdl import Group
from devnets.akash.settings import AkashDevnetSettings, ProviderSettings
from devnets.akash.state import Deployment, Lease, Market, MarketError, NotFound
from devnets.akash.tokens import ISSUER, TokenSigner

GENESIS_HEIGHT = 21_000_000
MIN_TICK_SECONDS = 0.05  # with heavy acceleration several blocks settle per tick
JANITOR_SECONDS = 5.0  # how often stopped runs' directories and old deployments go
MICRO = Decimal(1_000_000)
HOURS_PER_MONTH = 730.5


class InsufficientFunds(MarketError):
    """The account has no credit left (fault switch)."""


class BlockClock:
    """Block height derived from wall-clock time, optionally accelerated."""

    def __init__(self, real_block_seconds: float) -> None:
        self._real_block_seconds = real_block_seconds
        self._t0 = time.monotonic()

    def height(self) -> int:
        """Current simulated block height."""
        return GENESIS_HEIGHT + math.floor((time.monotonic() - self._t0) / self._real_block_seconds)


class AkashNetwork:
    """State and behaviour behind the Console API, the gateways and the control endpoint."""

    def __init__(self, settings: AkashDevnetSettings, work_dir: Path) -> None:
        self.settings = settings
        self.work_dir = work_dir
        self.market = Market(owner=settings.owner)
        self.clock = BlockClock(settings.real_block_seconds)
        self.faults = Faults()
        self.tokens = TokenSigner(settings.jwt_secret or secrets.token_hex(32), ISSUER)
        self.runs: dict[tuple[int, int, int], LeaseRun] = {}
        self.gateway_url = ""  # set once the gateway server knows its port
        self._providers = {p.address: p for p in settings.providers}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._leftover_dirs: list[Path] = []  # of stopped runs, removed by the janitor

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the block clock and the janitor."""
        self._spawn(self._clock_loop())
        self._spawn(self._janitor_loop())

    async def shutdown(self) -> None:
        """Cancel timers and stop every workload."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(run.stop() for run in self.runs.values()))

    # --- providers --------------------------------------------------------------------------

    def provider(self, address: str) -> ProviderSettings:
        """A simulated provider by address."""
        try:
            return self._providers[address]
        except KeyError:
            raise NotFound(f"Provider {address} not found") from None

    def host_uri(self, address: str) -> str:
        """Base URL of a provider's gateway."""
        return f"{self.gateway_url}/gateway/{address}"

    def estimate_usd_per_month(
        self, cpu_millicores: int, memory_bytes: int, storage_bytes: int
    ) -> float:
        """Median of the providers' prices for this request, in USD per 730.5-hour month."""
        prices = [
            p.price_uact(cpu_millicores, memory_bytes, storage_bytes)
            for p in self._providers.values()
        ]
        blocks_per_month = HOURS_PER_MONTH * 3600 / self.settings.block_seconds
        return statistics.median(prices) * blocks_per_month / 1e6 * self.settings.usd_per_token

    # --- deployments and leases -------------------------------------------------------------

    def create_deployment(
        self,
        sdl: str,
        groups: list[Group],
        name: str | None,
        runtime_limit_hours: int | None,
        deposit_usd: float | None,
    ) -> Deployment:
        """Open a deployment and let the providers start bidding."""
        self._check_funds()
        funds = self._to_micro(
            deposit_usd if deposit_usd is not None else self.settings.default_deposit_usd
        )
        deployment = self.market.create(
            sdl, groups, name, runtime_limit_hours, funds, self.clock.height()
        )
        self._schedule_bids(deployment)
        return deployment

    def create_leases(self, orders: list[tuple[int, int, int, str]]) -> list[Lease]:
        """Accept bids as leases and have their providers start the workloads."""
        self._check_funds()
        for dseq, _, _, provider in orders:
            self.market.get(dseq)
            self.provider(provider)
        leases = [self.market.accept(*order, height=self.clock.height()) for order in orders]
        for lease in leases:
            self._start_run(lease)
        return leases

    async def close_deployment(self, dseq: int) -> None:
        """Close by the owner: stop its workloads, close leases and bids."""
        deployment = self.market.get(dseq)
        ended = self.market.close(deployment, self.clock.height())
        await self._stop_runs(ended)

    async def provider_close(self, dseq: int, reason: str) -> list[Lease]:
        """A provider ends the active leases of a deployment (the deployment stays open)."""
        deployment = self.market.get(dseq)
        ended = [lease for lease in deployment.leases if lease.state == "active"]
        if not ended:
            raise NotFound(f"Deployment {dseq} has no active lease")
        for lease in ended:
            self.market.close_lease(lease, reason, self.clock.height())
        await self._stop_runs(ended)
        return ended

    def deposit(self, dseq: int, usd: float) -> Deployment:
        """Add funds to a deployment's escrow."""
        deployment = self.market.get(dseq)
        if deployment.state != "active":
            raise NotFound(f"Deployment {dseq} is closed")
        deployment.escrow.funds += self._to_micro(usd)
        return deployment

    def run_for(self, lease: Lease) -> LeaseRun | None:
        """The provider-side run of an active lease."""
        return self.runs.get(lease.key) if lease.state == "active" else None

    def find_run(self, provider: str, key: tuple[int, int, int]) -> LeaseRun | None:
        """The run of an active lease at this provider, as its gateway sees it."""
        deployment = self.market.deployments.get(key[0])
        if deployment is None:
            return None
        for lease in deployment.leases:
            if lease.key == key and lease.provider == provider:
                return self.run_for(lease)
        return None

    def snapshot(self) -> dict[str, Any]:
        """Open deployments, active leases and live workloads (for leak checks)."""
        open_deployments = self.market.active()
        leases = [
            lease
            for d in self.market.deployments.values()
            for lease in d.leases
            if lease.state == "active"
        ]
        workloads = [
            {
                "dseq": str(key[0]),
                "gseq": key[1],
                "oseq": key[2],
                "service": name,
                "pid": workload.pid,
                "state": workload.state,
            }
            for key, run in self.runs.items()
            for name, workload in run.workloads.items()
            if workload.state in ("starting", "running") and workload.pid is not None
        ]
        return {
            "height": self.clock.height(),
            "deployments": [
                {"dseq": str(d.dseq), "name": d.name, "state": d.state} for d in open_deployments
            ],
            "leases": [
                {
                    "dseq": str(x.dseq),
                    "gseq": x.gseq,
                    "oseq": x.oseq,
                    "provider": x.provider,
                    "state": x.state,
                }
                for x in leases
            ],
            "workloads": workloads,
            "faults": self.faults.model_dump(by_alias=True),
        }

    # --- internals --------------------------------------------------------------------------

    def _schedule_bids(self, deployment: Deployment) -> None:
        for gseq in range(1, len(deployment.groups) + 1):
            for provider in self._providers.values():
                delay = self._bid_delay(provider)
                if delay <= 0:
                    self._bid(deployment, gseq, provider)
                else:
                    self._spawn(self._bid_later(delay, deployment, gseq, provider))

    def _bid_delay(self, provider: ProviderSettings) -> float:
        if self.faults.bid_delay_seconds is not None:
            return self.faults.bid_delay_seconds
        return 0.0 if self.settings.zero_delay else provider.bid_delay_seconds

    async def _bid_later(
        self, delay: float, deployment: Deployment, gseq: int, provider: ProviderSettings
    ) -> None:
        await asyncio.sleep(delay)
        self._bid(deployment, gseq, provider)

    def _bid(self, deployment: Deployment, gseq: int, provider: ProviderSettings) -> None:
        if self.faults.no_bids or not provider.is_online or deployment.state != "active":
            return
        if any(lease.gseq == gseq for lease in deployment.leases):
            return  # the order is already matched
        group = deployment.group(gseq)
        price = provider.price_uact(group.cpu_millicores, group.memory_bytes, group.storage_bytes)
        if price > group.max_price or not self._has_capacity(provider, group):
            return
        self.market.add_bid(deployment, gseq, provider.address, Decimal(price), self.clock.height())

    def _has_capacity(self, provider: ProviderSettings, group: Group) -> bool:
        cpu, memory, storage = self.market.held(provider.address)
        return (
            cpu + group.cpu_millicores <= provider.cpu_millicores
            and memory + group.memory_bytes <= provider.memory_bytes
            and storage + group.storage_bytes <= provider.storage_bytes
        )

    def _start_run(self, lease: Lease) -> None:
        group = self.market.get(lease.dseq).group(lease.gseq)
        run = LeaseRun(
            lease.key,
            group,
            self.work_dir,
            enforce_memory_limit=self.settings.enforce_memory_limit,
            stop_grace=self.settings.stop_grace_seconds,
        )
        self.runs[lease.key] = run
        run.start()

    async def _stop_runs(self, leases: list[Lease]) -> None:
        """Stop the leases' workloads and forget their runs: a closed lease serves nothing."""
        runs = [self.runs[lease.key] for lease in leases if lease.key in self.runs]
        await asyncio.gather(*(run.stop() for run in runs))
        for run in runs:
            if self.runs.get(run.key) is run:
                del self.runs[run.key]
                self._leftover_dirs += run.work_dirs

    async def _janitor_loop(self) -> None:
        while True:
            await asyncio.sleep(JANITOR_SECONDS)
            await self.clean_up()

    async def clean_up(self) -> None:
        """Remove stopped runs' directories (in a thread: a workload may leave many files)
        and forget deployments closed longer ago than the retention keeps."""
        dirs, self._leftover_dirs = self._leftover_dirs, []
        if dirs:
            await asyncio.to_thread(_remove_dirs, dirs)
        self.market.forget_closed(self.settings.closed_retention)

    async def _clock_loop(self) -> None:
        while True:
            await asyncio.sleep(max(self.settings.real_block_seconds, MIN_TICK_SECONDS))
            await self._on_blocks()

    async def _on_blocks(self) -> None:
        height = self.clock.height()
        top_up = (
            None
            if self.settings.finite_funds
            else self._to_micro(self.settings.default_deposit_usd)
        )
        dry = self.market.settle(height, top_up)
        if self.faults.insufficient_funds:
            dry += [
                lease for d in self.market.active() for lease in d.leases if lease.state == "active"
            ]
        for lease in dry:
            self.market.close_lease(
                lease, "lease_closed_insufficient_funds", height, "insufficient_funds"
            )
        expired = [d for d in self.market.active() if self._past_runtime_limit(d, height)]
        for deployment in expired:
            dry += self.market.close(deployment, height)
        await self._stop_runs(dry)

    def _past_runtime_limit(self, deployment: Deployment, height: int) -> bool:
        if deployment.runtime_limit_hours is None or not deployment.leases:
            return False
        started = min(lease.created_at for lease in deployment.leases)
        return (
            height - started
        ) * self.settings.block_seconds >= deployment.runtime_limit_hours * 3600

    def _check_funds(self) -> None:
        if self.faults.insufficient_funds:
            raise InsufficientFunds("Insufficient balance: the account has no credit left")

    def _to_micro(self, usd: float) -> Decimal:
        return Decimal(str(usd)) / Decimal(str(self.settings.usd_per_token)) * MICRO

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _remove_dirs(dirs: list[Path]) -> None:
    for path in dirs:
        shutil.rmtree(path, ignore_errors=True)
