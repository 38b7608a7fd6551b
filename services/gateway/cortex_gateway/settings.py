"""Gateway settings (`CORTEX_*`)."""

from __future__ import annotations

from pydantic import BaseModel

from runtime.settings import ServiceSettings


class RateLimit(BaseModel):
    rate: float  # tokens added per second
    burst: int  # bucket size: the most requests allowed at once


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    http_host: str = "127.0.0.1"
    http_port: int = 13000
    providers: str = "akash"
    expected_services: str = "scheduler,provider-akash"
    heartbeat_timeout: float = 5.0
    # A network whose provider service has not reported its health for this long is unavailable.
    provider_stale_after: float = 20.0
    bootstrap_api_key: str | None = None
    bootstrap_tenant: str = "default"
    max_body_bytes: int = 1024 * 1024
    # POST /jobs/batch only: 1,000 specs with env and args need more than one job's limit.
    max_batch_body_bytes: int = 4 * 1024 * 1024
    rpc_timeout: float = 5.0
    auth_cache_seconds: float = 5.0
    # Per API key; `tenant_rate_limits` overrides it per tenant, e.g.
    # CORTEX_TENANT_RATE_LIMITS='{"acme": {"rate": 50, "burst": 100}}'.
    rate_limit: RateLimit = RateLimit(rate=200.0, burst=400)
    tenant_rate_limits: dict[str, RateLimit] = {}
    max_cpu_millicores: int = 64_000
    max_duration_seconds: int = 30 * 24 * 3600
    # Log follow (SSE): a comment line this often keeps idle proxies from closing the stream.
    sse_heartbeat: float = 15.0
    # Bytes of events one follower may have waiting; beyond it the follower is dropped.
    sse_buffer_bytes: int = 4 * 1024 * 1024
    # A follower that does not take a write within this many seconds is dropped.
    sse_write_timeout: float = 10.0
    # How long a follower waits for the store to catch up on lines it missed going live.
    follow_gap_timeout: float = 2.0

    @property
    def provider_set(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.providers.split(",") if p.strip())

    @property
    def expected_service_list(self) -> list[str]:
        return [s.strip() for s in self.expected_services.split(",") if s.strip()]

    def rate_limit_for(self, tenant: str) -> RateLimit:
        return self.tenant_rate_limits.get(tenant, self.rate_limit)
