"""render.com REST API client: every call and shape this service uses lives in this module."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from provider_runtime.network import NetworkError, http_session, retrying
from runtime.logging import get_logger

log = get_logger(__name__)


class RenderError(NetworkError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, network="Render")


class RenderClient:
    def __init__(self, base_url: str, api_key: str, timeout: float, max_retries: int) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._session: aiohttp.ClientSession | None = None
        self._owner_id: str | None = None

    async def open(self) -> None:
        self._session = http_session(headers=self._headers, timeout=self._timeout)

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    async def _once(self, method: str, path: str, body: Any, params: dict[str, str]) -> Any:
        assert self._session is not None
        try:
            async with self._session.request(
                method, self._base + path, json=body, params=params or None
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise RenderError(response.status, _message(text, response.reason))
                return await response.json(content_type=None) if text else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RenderError(0, f"{type(exc).__name__}: {exc}") from exc

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        retry: bool = True,
    ) -> Any:
        """One call; 429, 5xx and timeouts are retried with backoff unless `retry=False`."""
        retries = self._max_retries if retry else 0
        return await retrying(
            lambda: self._once(method, path, body, params or {}), retries, f"render {path}"
        )

    async def owner_id(self) -> str:
        """The workspace this key belongs to (the first owner), asked once."""
        if self._owner_id is None:
            owners = await self.call("GET", "/owners", params={"limit": "1"})
            self._owner_id = str(owners[0]["owner"]["id"])
        return self._owner_id

    async def create_service(self, body: dict[str, Any]) -> tuple[str, str]:
        """(service id, deploy id). Not retried: a lost answer may still have created it."""
        reply = await self.call("POST", "/services", body, retry=False)
        return str(reply["service"]["id"]), str(reply["deployId"])

    async def find_service(self, name: str) -> str | None:
        items = await self.call("GET", "/services", params={"name": name, "limit": "20"})
        for item in items:
            if item["service"]["name"] == name:
                return str(item["service"]["id"])
        return None

    async def latest_deploy(self, service_id: str) -> dict[str, Any] | None:
        items = await self.call("GET", f"/services/{service_id}/deploys", params={"limit": "1"})
        return dict(items[0]["deploy"]) if items else None

    async def deploy(self, service_id: str, deploy_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.call(
            "GET", f"/services/{service_id}/deploys/{deploy_id}"
        )
        return reply

    async def suspend(self, service_id: str) -> None:
        await self.call("POST", f"/services/{service_id}/suspend")

    async def delete_service(self, service_id: str) -> None:
        """Delete (its running jobs stop first); a service already gone counts as deleted."""
        try:
            await self.call("DELETE", f"/services/{service_id}")
        except RenderError as exc:
            if exc.status != 404:
                raise

    async def create_job(self, service_id: str, command: str, plan: str) -> dict[str, Any]:
        """Not retried: a lost answer may still have started it (see `jobs`)."""
        body = {"startCommand": command, "planId": plan}
        reply: dict[str, Any] = await self.call(
            "POST", f"/services/{service_id}/jobs", body, retry=False
        )
        return reply

    async def jobs(self, service_id: str) -> list[dict[str, Any]]:
        items = await self.call("GET", f"/services/{service_id}/jobs", params={"limit": "100"})
        return [dict(item["job"]) for item in items]

    async def job(self, service_id: str, job_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.call("GET", f"/services/{service_id}/jobs/{job_id}")
        return reply

    async def cancel_job(self, service_id: str, job_id: str) -> None:
        """Cancel; a job already ended (409) or gone (404) needs nothing more."""
        try:
            await self.call("POST", f"/services/{service_id}/jobs/{job_id}/cancel")
        except RenderError as exc:
            if exc.status not in (404, 409):
                raise

    async def log_lines(
        self, resource: str, since: str, text: str | None = None, limit: int = 20
    ) -> list[str]:
        """The newest log messages of a service or job since `since` (RFC 3339), newest first."""
        params = {
            "ownerId": await self.owner_id(),
            "resource": resource,
            "direction": "backward",
            "limit": str(limit),
            "startTime": since,
        }
        if text:
            params["text"] = text
        reply = await self.call("GET", "/logs", params=params)
        return [str(entry["message"]) for entry in reply.get("logs", [])]

    async def subscribe_logs(self, resource: str, since: str) -> AsyncIterator[dict[str, Any]]:
        """`GET /logs/subscribe` (websocket): entries of `resource` from `since`, then live."""
        assert self._session is not None
        params = {"ownerId": await self.owner_id(), "resource": resource, "startTime": since}
        url = self._base + "/logs/subscribe"
        async with self._session.ws_connect(url, params=params, heartbeat=30) as ws:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    entry = json.loads(message.data)
                    if isinstance(entry, dict):
                        yield entry
                elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
        raise RenderError(0, "the log subscription closed")

    async def latest_metric(
        self, metric: str, resource: str, start: str, seconds: float
    ) -> float | None:
        """The average of `metric` (cpu: cores, memory: bytes) over [start, start + seconds)."""
        params = {
            "resource": resource,
            "startTime": start,
            "resolutionSeconds": f"{seconds:.3f}",
            "aggregationMethod": "AVG",
        }
        series = await self.call("GET", f"/metrics/{metric}", params=params)
        values = [v for s in series or [] for v in s.get("values", [])]
        return float(values[-1]["value"]) if values else None


def _message(text: str, fallback: str | None) -> str:
    """Render's `{id, message}` error body, or the HTTP reason."""
    with contextlib.suppress(ValueError):  # not JSON: the HTTP reason below
        data = json.loads(text)
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])
    return fallback or "error"
