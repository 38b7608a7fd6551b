"""Settings every provider service shares (`CORTEX_*`); each network adds its own."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr

from runtime.settings import ServiceSettings


class ProviderSettings(ServiceSettings):
    # What the Providers API may change at run time: API field → (setting, is it a secret?).
    RUNTIME_CONFIG: ClassVar[dict[str, tuple[str, bool]]] = {}
    # Seals credentials stored through the Providers API (`cortex up` sets one).
    secrets_key: SecretStr | None = None
    # Deployments one instance drives at once. Each step of each one is written, reported
    # and announced in groups shared with the others in flight, so more at once costs less
    # per job (decision 51); each costs two sockets and a few tasks, not a thread.
    max_active_deployments: int = 128
    # Replicas of one provider service must each set a distinct CORTEX_INSTANCE_ID; the
    # default is stable across restarts so a restarted instance resumes its own deployments.
    claim_ttl: float = 15.0
    claim_interval: float = 2.0
    health_interval: float = 5.0
    price_refresh: float = 300.0
    # Usage of each running job is sampled this often (seconds) and published.
    metrics_interval: float = 10.0
    # After a job's workload ends, its last log lines may take this long to be read.
    log_drain_timeout: float = 5.0
