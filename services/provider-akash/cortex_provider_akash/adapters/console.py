"""Akash Console API client (managed wallet): every call and shape lives in this module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provider_runtime.http_client import HttpClient, TransportError
from provider_runtime.network import NetworkError, retrying
from runtime.logging import get_logger

log = get_logger(__name__)


class ConsoleError(NetworkError):
    """Console answered with an error (or not at all: status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, network="Akash Console")


@dataclass(frozen=True)
class Bid:
    provider: str
    dseq: str
    gseq: int
    oseq: int
    state: str
    denom: str
    amount: float
    created_at: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Bid:
        bid = item.get("bid", item)
        bid_id = bid.get("id") or bid.get("bid_id") or {}  # older Console spells it bid_id
        price = bid.get("price", {})
        return cls(
            provider=bid_id["provider"],
            dseq=str(bid_id["dseq"]),
            gseq=int(bid_id.get("gseq", 1)),
            oseq=int(bid_id.get("oseq", 1)),
            state=bid.get("state", ""),
            denom=price.get("denom", ""),
            amount=float(price.get("amount", "inf")),
            created_at=str(bid.get("created_at", "")),
        )


class ConsoleClient:
    def __init__(self, base_url: str, api_key: str, timeout: float, max_retries: int) -> None:
        # A lean keep-alive client (about four calls per job, decision 72); it connects on
        # its first call, so there is nothing to open.
        self._http = HttpClient(base_url.rstrip("/"), {"x-api-key": api_key}, timeout)
        self._max_retries = max_retries

    async def close(self) -> None:
        await self._http.close()

    async def _once(self, method: str, path: str, body: Any = None) -> Any:
        try:
            reply = await self._http.request(method, path, body)
        except (TransportError, TimeoutError) as exc:
            raise ConsoleError(0, f"{type(exc).__name__}: {exc}") from exc
        try:
            data = reply.json()
        except ValueError:  # a proxy's HTML error page, or a cut answer
            data = None
            if reply.status < 400:
                raise ConsoleError(0, f"answer {reply.status} is not JSON") from None
        if reply.status >= 400:
            message = data.get("message") if isinstance(data, dict) else None
            raise ConsoleError(reply.status, message or reply.reason or "error")
        return data

    async def call(self, method: str, path: str, body: Any = None, retry: bool = True) -> Any:
        """One Console call; retryable failures are retried with backoff unless `retry=False`."""
        retries = self._max_retries if retry else 0
        return await retrying(lambda: self._once(method, path, body), retries, f"akash {path}")

    async def create_deployment(self, sdl: str, name: str, runtime_limit_hours: int) -> str:
        """Not retried here: a lost answer may still have created it (see find_deployment)."""
        body = {"data": {"sdl": sdl, "name": name, "runtimeLimitHours": runtime_limit_hours}}
        reply = await self.call("POST", "/v1/deployments", body, retry=False)
        return str(reply["data"]["dseq"])

    async def find_deployment(self, name: str) -> str | None:
        """The dseq of our active deployment named `name`, if Console has one."""
        skip = 0
        while True:
            reply = await self.call("GET", f"/v1/deployments?skip={skip}&limit=100")
            data = reply["data"]
            for item in data.get("deployments", []):
                deployment = item.get("deployment", item)
                item_name = item.get("name") or deployment.get("name")
                if item_name == name and deployment.get("state", "active") == "active":
                    return str(deployment.get("id", {}).get("dseq") or deployment.get("dseq"))
            pagination = data.get("pagination", {})
            if not pagination.get("hasMore"):
                return None
            skip += int(pagination.get("limit", 100))

    async def bids(self, dseq: str) -> list[Bid]:
        reply = await self.call("GET", f"/v1/bids?dseq={dseq}")
        return [Bid.from_item(item) for item in reply["data"]]

    async def create_lease(self, bid: Bid) -> dict[str, Any]:
        lease = {"dseq": bid.dseq, "gseq": bid.gseq, "oseq": bid.oseq, "provider": bid.provider}
        reply = await self.call("POST", "/v1/leases", {"manifest": "", "leases": [lease]})
        data: dict[str, Any] = reply["data"]
        return data

    async def deployment(self, dseq: str) -> dict[str, Any]:
        reply = await self.call("GET", f"/v1/deployments/{dseq}")
        data: dict[str, Any] = reply["data"]
        return data

    async def close_deployment(self, dseq: str) -> None:
        """Close; a deployment already closed or gone counts as closed."""
        try:
            await self.call("DELETE", f"/v1/deployments/{dseq}")
        except ConsoleError as exc:
            if exc.status not in (404, 409):
                raise

    async def provider_host(self, address: str) -> str:
        reply = await self.call("GET", f"/v1/providers/{address}")
        return str(reply["data"]["hostUri"]).rstrip("/")

    async def jwt(self, ttl: int) -> str:
        body = {"data": {"ttl": ttl, "leases": {"access": "full"}}}
        reply = await self.call("POST", "/v1/create-jwt-token", body)
        return str(reply["data"]["token"])

    async def monthly_estimate(self, cpu_millicores: int, memory: int, storage: int) -> float:
        body = {"cpu": cpu_millicores, "memory": memory, "storage": storage}
        reply = await self.call("POST", "/v1/pricing", body)
        return float(reply["data"]["akash"])
