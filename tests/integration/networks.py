"""Each network as integration tests start it: its devnet (emulator) and its provider service.

A network is one `start_<name>` function and one line in `STARTERS`; the cross-network tests
(test_networks.py) then run against it, using `faults` and `leak_keys` to speak to its devnet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cortex_provider_akash.bootstrap import build as build_akash
from cortex_provider_akash.settings import AkashSettings
from cortex_provider_golem.bootstrap import build as build_golem
from cortex_provider_golem.settings import GolemSettings
from cortex_provider_render.bootstrap import build as build_render
from cortex_provider_render.settings import RenderSettings
from devnets.akash.app import start_akash_devnet
from devnets.akash.settings import AkashDevnetSettings
from devnets.golem.app import start_golem_devnet
from devnets.golem.settings import GolemDevnetSettings, default_providers
from devnets.render.app import start_render_devnet
from devnets.render.settings import RenderDevnetSettings
from provider_runtime.service import ProviderService


class Devnet(Protocol):
    url: str

    async def stop(self) -> None: ...


@dataclass
class NetworkUnderTest:
    name: str
    devnet: Devnet
    service: ProviderService
    # `/control/state` lists that must be empty when nothing is left open on the network.
    leak_keys: tuple[str, ...]
    # Generic fault → the devnet's own `/control/faults` body.
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The devnet control call that takes a running job's resources away (lease, instance,
    # agreement), from the `details` of the job's `scheduled` event.
    lose: Callable[[dict[str, Any]], str] = lambda details: ""
    # How many deployments (services, agreements…) the devnet ever made for a job id.
    created_for: Callable[[str], int] = lambda job_id: 0


Starter = Callable[[dict[str, Any], Path, dict[str, Any]], Awaitable[NetworkUnderTest]]


async def start_akash(
    common: dict[str, Any], work_dir: Path, o: dict[str, Any]
) -> NetworkUnderTest:
    devnet = await start_akash_devnet(
        AkashDevnetSettings(
            work_dir=work_dir / "akash-devnet",
            zero_delay=True,
            stop_grace_seconds=1.0,
            enforce_memory_limit=o.get("enforce_memory_limit", False),
        )
    )
    service = build_akash(
        AkashSettings(
            **common,
            akash_api_url=devnet.url,
            akash_api_key=devnet.api_key,
            akash_bid_window=o.get("bid_window", 3.0),
            akash_poll_interval=0.05,
            akash_bid_collect=0.0,
            akash_status_interval=0.2,
            akash_request_timeout=o.get("request_timeout", 30.0),
        )
    )
    return NetworkUnderTest(
        "akash",
        devnet,
        service,
        leak_keys=("deployments", "leases", "workloads"),
        faults={
            "no_capacity": {"noBids": True},
            "api_errors": {"apiErrorRate": 0.3},
            "lost_answers": {"loseAnswerRate": 0.3},
            "offline": {"offline": True},
        },
        lose=lambda details: f"/control/leases/{details['dseq']}/close",
        created_for=lambda job_id: sum(
            1 for dep in devnet.network.market.deployments.values() if dep.name == job_id
        ),
    )


async def start_render(
    common: dict[str, Any], work_dir: Path, o: dict[str, Any]
) -> NetworkUnderTest:
    devnet = await start_render_devnet(
        RenderDevnetSettings(
            work_dir=work_dir / "render-devnet",
            zero_delay=True,
            stop_grace_seconds=1.0,
            enforce_memory_limit=o.get("enforce_memory_limit", False),
        )
    )
    service = build_render(
        RenderSettings(
            **common,
            render_api_url=devnet.url,
            render_api_key=devnet.api_key,
            render_poll_interval=0.05,
            render_start_timeout=o.get("start_timeout", 3.0),
            render_request_timeout=o.get("request_timeout", 30.0),
        )
    )
    return NetworkUnderTest(
        "render",
        devnet,
        service,
        leak_keys=("services", "jobs", "processes"),
        faults={
            "no_capacity": {"noCapacity": True},
            "api_errors": {"apiErrorRate": 0.3},
            "offline": {"offline": True},
        },
        lose=lambda details: f"/control/jobs/{details['renderJobId']}/kill",
        created_for=lambda job_id: devnet.platform.created_by_name[f"cortex-{job_id}"],
    )


async def start_golem(
    common: dict[str, Any], work_dir: Path, o: dict[str, Any]
) -> NetworkUnderTest:
    providers = default_providers()
    if o.get("enforce_memory_limit"):  # small VMs, so a test can exceed one's memory
        providers = [p.model_copy(update={"memory_gib": 0.5}) for p in providers]
    devnet = await start_golem_devnet(
        GolemDevnetSettings(
            providers=providers,
            enforce_memory_limit=o.get("enforce_memory_limit", False),
            work_dir=work_dir / "golem-devnet",
            zero_delay=o.get("golem_zero_delay", True),
            approve_delay_seconds=0.0,
            deploy_seconds=o.get("deploy_seconds", 1.0),  # used only without zero_delay
            stop_grace_seconds=1.0,
            debit_note_interval_seconds=o.get("debit_note_interval"),
        )
    )
    service = build_golem(
        GolemSettings(
            **common,
            golem_api_url=devnet.url,
            golem_api_key=devnet.app_key,
            golem_offer_timeout=o.get("offer_timeout", 3.0),
            golem_offer_collect=0.1,
            golem_negotiation_timeout=5.0,
            golem_poll_timeout=0.5,
            golem_status_interval=0.2,
            golem_invoice_wait=5.0,
            golem_debit_note_accept_timeout=o.get("debit_note_accept_timeout", 240),
        )
    )
    return NetworkUnderTest(
        "golem",
        devnet,
        service,
        leak_keys=("demands", "agreements", "activities", "processes", "allocations"),
        faults={
            "no_capacity": {"noOffers": True},
            "api_errors": {"apiErrorRate": 0.3},
            "offline": {"offline": True},
        },
        lose=lambda details: f"/control/agreements/{details['agreementId']}/break",
        created_for=lambda job_id: sum(
            1
            for agreement in devnet.network.market.agreements.values()
            if agreement.demand.properties.get("cortex.job-id") == job_id
        ),
    )


STARTERS: dict[str, Starter] = {
    "akash": start_akash,
    "render": start_render,
    "golem": start_golem,
}
