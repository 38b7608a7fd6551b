"""Emulated Akash network: Console API, provider gateways and a control endpoint on loopback."""

from devnets.akash.app import AkashDevnet, start_akash_devnet
from devnets.akash.settings import AkashDevnetSettings, ProviderSettings

__all__ = ["AkashDevnet", "AkashDevnetSettings", "ProviderSettings", "start_akash_devnet"]
