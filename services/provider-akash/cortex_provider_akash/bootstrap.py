"""Wire provider-akash: the shared provider runtime around the Akash adapter."""

from __future__ import annotations

from cortex_provider_akash.adapters.network import AkashNetwork
from cortex_provider_akash.settings import AkashSettings
from provider_runtime.service import ProviderService
from runtime.settings import ServiceSettings


def build(settings: ServiceSettings) -> ProviderService:
    assert isinstance(settings, AkashSettings)
    return ProviderService(settings, AkashNetwork(settings), migrations="cortex_provider_akash")
