"""provider-akash settings (`CORTEX_*`). Pointing at the real Console is a settings change."""

from __future__ import annotations

import socket
from typing import ClassVar

from pydantic import Field

from provider_runtime.settings import ProviderSettings


class AkashSettings(ProviderSettings):
    RUNTIME_CONFIG: ClassVar[dict[str, tuple[str, bool]]] = {
        "apiUrl": ("akash_api_url", False),
        "apiKey": ("akash_api_key", True),
        "maxPrice": ("akash_max_price", False),
        "denom": ("akash_denom", False),
        "usdPerToken": ("akash_usd_per_token", False),
        "bidWindow": ("akash_bid_window", False),
        "bidCollect": ("akash_bid_collect", False),
        "requestTimeout": ("akash_request_timeout", False),
        "maxRetries": ("akash_max_retries", False),
    }
    service_name: str = "provider-akash"
    instance_id: str = Field(default_factory=lambda: f"{socket.gethostname()}-provider-akash")
    akash_api_url: str = "https://console-api.akash.network"
    akash_api_key: str = ""
    # Highest bid accepted, in micro-denom per block (also written into the SDL as the ceiling).
    akash_max_price: int = 10_000
    akash_denom: str = "uact"
    # USD per whole token of `akash_denom` (ACT is designed to track $1; AKT needs a real rate).
    akash_usd_per_token: float = 1.0
    akash_block_seconds: float = 6.174
    akash_bid_window: float = 90.0
    # After the first acceptable bid, wait this long for cheaper ones before leasing.
    akash_bid_collect: float = 10.0
    akash_poll_interval: float = 3.0
    akash_status_interval: float = 5.0
    akash_request_timeout: float = 30.0
    akash_max_retries: int = 5
    akash_jwt_ttl: int = 3600
