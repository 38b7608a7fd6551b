"""Settings every service reads from the environment (`CORTEX_*`)."""

from __future__ import annotations

import os
import socket

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Common to every service; each service extends it with its own fields."""

    model_config = SettingsConfigDict(env_prefix="CORTEX_", extra="ignore")

    service_name: str = "cortex"
    instance_id: str = Field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/cortex"
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    log_level: str = "info"
    log_json: bool = True
    heartbeat_interval: float = 1.0
    shutdown_grace: float = 5.0
    db_pool_min: int = 2
    db_pool_max: int = 20
