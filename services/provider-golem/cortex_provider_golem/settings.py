"""provider-golem settings (`CORTEX_*`). Pointing at a real yagna daemon is a settings change."""

from __future__ import annotations

import socket
from typing import ClassVar

from pydantic import Field

from provider_runtime.settings import ProviderSettings


class GolemSettings(ProviderSettings):
    RUNTIME_CONFIG: ClassVar[dict[str, tuple[str, bool]]] = {
        "apiUrl": ("golem_api_url", False),
        "appKey": ("golem_api_key", True),
        "paymentPlatform": ("golem_payment_platform", False),
        "subnet": ("golem_subnet", False),
        "usdPerGlm": ("golem_usd_per_glm", False),
        "maxGlmPerCoreHour": ("golem_max_glm_per_core_hour", False),
        "maxStartGlm": ("golem_max_start_glm", False),
        "images": ("golem_images", False),
        "offerTimeout": ("golem_offer_timeout", False),
        "offerCollect": ("golem_offer_collect", False),
        "requestTimeout": ("golem_request_timeout", False),
        "maxRetries": ("golem_max_retries", False),
    }
    service_name: str = "provider-golem"
    instance_id: str = Field(default_factory=lambda: f"{socket.gethostname()}-provider-golem")
    # The local yagna requestor daemon and its app key (`yagna app-key create`).
    golem_api_url: str = "http://127.0.0.1:7465"
    golem_api_key: str = ""
    golem_payment_platform: str = "erc20-polygon-glm"
    golem_subnet: str = "public"
    # USD per GLM: a configured rate (no price feed is consulted).
    golem_usd_per_glm: float = 0.25
    # Offers above either cap (GLM per core-hour at the job's cores, start price) are not taken;
    # the allocation reserves the cap for the job's cores over the agreement's window.
    golem_max_glm_per_core_hour: float = 2.0
    golem_max_start_glm: float = 0.1
    # The agreement (and the demand's expiration) lasts the job's duration plus this headroom,
    # which is also how far `extend` can go without a new agreement.
    golem_validity_headroom: float = 3600.0
    # Docker image → Golem image: a full task package (`hash:sha3:<hex>:<url>`) or a registry
    # tag (`user/repo:tag`); images not listed are looked up in the registry by their own name.
    golem_images: dict[str, str] = Field(default_factory=dict)
    golem_registry_url: str = "http://registry.golem.network/v1/image/download"
    # Market: wait up to `offer_timeout` for offers; after the first, collect for `offer_collect`.
    golem_offer_timeout: float = 60.0
    golem_offer_collect: float = 5.0
    golem_negotiation_timeout: float = 20.0  # for a provider's Draft and for its approval
    golem_poll_timeout: float = 5.0  # long-poll `timeout` sent to yagna
    # Payment terms we ask for; the provider terminates when a debit note is not accepted in time.
    golem_debit_note_interval: int = 120
    golem_debit_note_accept_timeout: int = 240
    golem_payment_timeout: int = 120
    golem_invoice_wait: float = 30.0  # release waits this long for the invoice before freeing
    golem_status_interval: float = 5.0  # watch checks the activity this often between events
    golem_request_timeout: float = 30.0  # per HTTP call (long polls add their own timeout)
    golem_max_retries: int = 5
