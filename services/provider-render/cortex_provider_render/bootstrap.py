"""Wire provider-render: the shared provider runtime around the Render adapter."""

from __future__ import annotations

from cortex_provider_render.adapters.network import RenderNetwork
from cortex_provider_render.settings import RenderSettings
from provider_runtime.service import ProviderService
from runtime.settings import ServiceSettings


def build(settings: ServiceSettings) -> ProviderService:
    assert isinstance(settings, RenderSettings)
    return ProviderService(settings, RenderNetwork(settings))
