"""provider-render settings (`CORTEX_*`). Pointing at the real api.render.com is a settings change."""

from __future__ import annotations

import socket
from typing import ClassVar

from pydantic import BaseModel, Field

from provider_runtime.settings import ProviderSettings


class Plan(BaseModel):
    """A Render instance type; prices from render.com/pricing (verify before production use)."""

    id: str
    cpu: float  # cores
    memory_mb: int
    usd_per_month: float


# render.md's copy of render.com/pricing; Render bills per second at the monthly rate / 730 h.
DEFAULT_PLANS = [
    Plan(id="starter", cpu=0.5, memory_mb=512, usd_per_month=7),
    Plan(id="standard", cpu=1, memory_mb=2048, usd_per_month=25),
    Plan(id="pro", cpu=2, memory_mb=4096, usd_per_month=85),
    Plan(id="pro_plus", cpu=4, memory_mb=8192, usd_per_month=175),
    Plan(id="pro_max", cpu=4, memory_mb=16384, usd_per_month=225),
    Plan(id="pro_ultra", cpu=8, memory_mb=32768, usd_per_month=450),
]


class RenderSettings(ProviderSettings):
    RUNTIME_CONFIG: ClassVar[dict[str, tuple[str, bool]]] = {
        "apiUrl": ("render_api_url", False),
        "apiKey": ("render_api_key", True),
        "region": ("render_region", False),
        "plans": ("render_plans", False),
        "basePlan": ("render_base_plan", False),
        "deployTimeout": ("render_deploy_timeout", False),
        "startTimeout": ("render_start_timeout", False),
        "requestTimeout": ("render_request_timeout", False),
        "maxRetries": ("render_max_retries", False),
    }
    service_name: str = "provider-render"
    instance_id: str = Field(default_factory=lambda: f"{socket.gethostname()}-provider-render")
    render_api_url: str = "https://api.render.com/v1"
    render_api_key: str = ""
    render_region: str = "oregon"
    render_plans: list[Plan] = Field(default_factory=lambda: list(DEFAULT_PLANS))
    # The base service only carries the image and env; it is suspended once live.
    render_base_plan: str = "starter"
    render_hours_per_month: float = 730.0
    render_deploy_timeout: float = 600.0  # image pull and deploy
    render_start_timeout: float = 300.0  # a job still `pending` (no instance) after this fails
    render_poll_interval: float = 2.0
    render_request_timeout: float = 30.0
    render_max_retries: int = 5
