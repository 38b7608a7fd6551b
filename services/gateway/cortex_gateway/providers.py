"""Whether a network can take a job now, from the health its provider service publishes."""

from __future__ import annotations

from datetime import timedelta

from contracts import subjects
from contracts.errors import ApiError, ErrorCode
from contracts.reports import NetworkHealth, ProviderStatus
from contracts.timefmt import parse_time, utcnow
from runtime.kv import KeyValueMirror


class ProviderHealth(KeyValueMirror[ProviderStatus]):
    def __init__(self, stale_after: float) -> None:
        super().__init__(subjects.PROVIDER_STATUS_BUCKET, ProviderStatus.model_validate_json)
        self._stale_after = timedelta(seconds=stale_after)

    def require_available(self, network: str) -> None:
        """Raise 503 PROVIDER_UNAVAILABLE unless the network is online or degraded, and its
        provider service reported so recently (a stale entry means the service is gone)."""
        status = self.get(network)
        if status is None:
            raise _unavailable(
                network, "its provider service has not reported the network's health yet"
            )
        if utcnow() - parse_time(status.checked_at) > self._stale_after:
            raise _unavailable(
                network,
                f"its provider service stopped reporting (last report {status.checked_at})",
                status,
            )
        if status.status is NetworkHealth.OFFLINE:
            raise _unavailable(
                network, f"the network is offline: {status.message or 'no answer'}", status
            )


def _unavailable(network: str, why: str, status: ProviderStatus | None = None) -> ApiError:
    details = {"provider": network, "status": None if status is None else status.status.value}
    if status is not None:
        details["checkedAt"] = status.checked_at
    return ApiError(
        ErrorCode.PROVIDER_UNAVAILABLE, f"Provider {network} cannot take jobs now: {why}", details
    )
