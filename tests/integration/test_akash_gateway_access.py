"""The Akash adapter's cached gateway address and JWT: a provider that moved its gateway, or
no longer takes the token, is asked about again (before: every later job of that provider
reconnected to the stale address until the cache expired, half the JWT's lifetime)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from cortex_provider_akash.adapters.network import AkashNetwork
from cortex_provider_akash.settings import AkashSettings
from devnets.akash import AkashDevnet, AkashDevnetSettings, start_akash_devnet
from provider_runtime.model import Deployment, DeploymentState, Outcome
from provider_runtime.network import Started
from tests.integration.stack import SPEC


@pytest_asyncio.fixture
async def devnet() -> AsyncIterator[AkashDevnet]:
    net = await start_akash_devnet(AkashDevnetSettings(zero_delay=True, stop_grace_seconds=1))
    yield net
    await net.stop()


async def _run_job(network: AkashNetwork, job_id: str) -> list[object]:
    """Deploy, watch until the outcome, release: what the watch observed."""
    d = Deployment(job_id, "tenant", {**SPEC, "command": ["true"]}, DeploymentState.NEW)

    async def save(_: Deployment) -> None:
        return None

    await network.deploy(d, save)
    seen: list[object] = []
    async with asyncio.timeout(10):  # a stale gateway address never gets here
        async for observation in network.watch(d):
            seen.append(observation)
    await network.release(d)
    return seen


async def test_a_gateway_that_moved_and_rotated_its_key_is_asked_for_again(
    devnet: AkashDevnet,
) -> None:
    settings = AkashSettings(
        akash_api_url=devnet.url,
        akash_api_key=devnet.api_key,
        akash_poll_interval=0.05,
        akash_bid_collect=0.0,
    )
    network = AkashNetwork(settings)
    await network.open()
    try:
        first = await _run_job(network, "job-before-the-move")
        assert isinstance(first[0], Started) and isinstance(first[-1], Outcome)

        # The providers' gateway moves to another port and signs with a new key: the
        # adapter's cached address refuses connections, and its cached token would be 401.
        await devnet.move_gateways(secret="a rotated secret")

        second = await _run_job(network, "job-after-the-move")
        assert isinstance(second[0], Started)
        assert isinstance(second[-1], Outcome) and second[-1].kind == "completed"
    finally:
        await network.close()
