"""Wire provider-golem: the shared provider runtime around the Golem adapter."""

from __future__ import annotations

from cortex_provider_golem.adapters.network import GolemNetwork
from cortex_provider_golem.settings import GolemSettings
from provider_runtime.service import ProviderService
from runtime.settings import ServiceSettings


def build(settings: ServiceSettings) -> ProviderService:
    assert isinstance(settings, GolemSettings)
    return ProviderService(settings, GolemNetwork(settings))
