"""The Akash devnet's market bookkeeping: provider capacity and gateway tokens."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from devnets.akash.network import AkashNetwork
from devnets.akash.sdl import Group, Service
from devnets.akash.settings import AkashDevnetSettings, ProviderSettings
from devnets.akash.tokens import TokenError, TokenSigner

PROVIDER = "akash1smallprovider"


def _group(cpu: int) -> Group:
    service = Service("app", "alpine", None, None, {}, [], cpu, 1 << 20, 1 << 20, 1)
    return Group("dcloud", [service], "uact", Decimal(10**6))


def _network(tmp_path: Path) -> AkashNetwork:
    provider = ProviderSettings(
        address=PROVIDER, cpu_uact=1, memory_uact=1, storage_uact=1, cpu_millicores=1000
    )
    settings = AkashDevnetSettings(providers=[provider], zero_delay=True)
    return AkashNetwork(settings, tmp_path)


def _open(network: AkashNetwork, cpu: int) -> int:
    deployment = network.create_deployment("sdl", [_group(cpu)], None, None, None)
    return deployment.dseq


def _bids(network: AkashNetwork, dseq: int) -> int:
    return len(network.market.get(dseq).bids)


def test_a_provider_bids_only_while_its_active_leases_leave_room(tmp_path: Path) -> None:
    network = _network(tmp_path)
    first = _open(network, 600)
    assert _bids(network, first) == 1
    network.market.accept(first, 1, 1, PROVIDER, height=1)
    assert network.market.held(PROVIDER)[0] == 600

    assert _bids(network, _open(network, 600)) == 0  # 600 + 600 > 1000
    assert _bids(network, _open(network, 400)) == 1  # fits exactly

    network.market.close(network.market.get(first), height=2)
    assert network.market.held(PROVIDER) == (0, 0, 0)
    assert _bids(network, _open(network, 600)) == 1


def test_closing_a_lease_twice_frees_its_resources_once(tmp_path: Path) -> None:
    network = _network(tmp_path)
    first, second = _open(network, 500), _open(network, 300)
    network.market.accept(first, 1, 1, PROVIDER, height=1)
    lease = network.market.accept(second, 1, 1, PROVIDER, height=1)
    network.market.close_lease(lease, "lease_closed_unstable", height=2)
    network.market.close_lease(lease, "lease_closed_unstable", height=3)
    network.market.close(network.market.get(second), height=4)
    assert network.market.held(PROVIDER)[0] == 500


def test_a_remembered_token_is_still_refused_once_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner("secret", "devnet")
    token = signer.issue(60, {"access": "full"})
    assert signer.verify(token)["leases"] == {"access": "full"}
    assert signer.verify(token)["exp"] > time.time()  # second use: from memory
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = TokenSigner("other", "devnet").issue(60, {"access": "full"})
    with pytest.raises(TokenError, match="signature"):
        TokenSigner("secret", "devnet").verify(token)
