"""yagna requestor REST API client (market, activity, payment): every call and shape is here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from contracts.timefmt import parse_time
from provider_runtime.network import NetworkError, backoff, http_session
from runtime.logging import get_logger

log = get_logger(__name__)
MARKET, ACTIVITY, PAYMENT = "/market-api/v1", "/activity-api/v1", "/payment-api/v1"
GONE = (404, 410)


class YagnaError(NetworkError):
    """yagna answered with an error (or not at all: status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, network="yagna")


class YagnaClient:
    def __init__(self, base_url: str, app_key: str, timeout: float, max_retries: int) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {app_key}"}
        self._timeout = timeout
        self._max_retries = max_retries
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = http_session(headers=self._headers)

    async def close(self) -> None:
        if self._session:
            await self._session.close()

    # --- plumbing ------------------------------------------------------------------------------

    async def _once(self, method: str, path: str, body: Any, wait: float) -> Any:
        assert self._session is not None
        timeout = aiohttp.ClientTimeout(total=self._timeout + wait)  # long polls hold `wait`
        try:
            async with self._session.request(
                method, self._base + path, json=body, timeout=timeout
            ) as response:
                text = await response.text()
                data = json.loads(text) if text.strip() else None
                if response.status >= 400:
                    message = data.get("message") if isinstance(data, dict) else None
                    raise YagnaError(response.status, str(message or response.reason or "error"))
                return data
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise YagnaError(0, f"{type(exc).__name__}: {exc}") from exc

    async def call(
        self, method: str, path: str, body: Any = None, retry: bool = True, wait: float = 0.0
    ) -> Any:
        """One call; retryable failures are retried with backoff unless `retry=False`."""
        attempt = 0
        while True:
            try:
                return await self._once(method, path, body, wait)
            except YagnaError as exc:
                if not retry or not exc.retryable or attempt >= self._max_retries:
                    raise
                delay = backoff(attempt)
                log.info("golem.retry", path=path, status=exc.status, delay=round(delay, 3))
                await asyncio.sleep(delay)
                attempt += 1

    async def _gone_ok(self, method: str, path: str, body: Any = None) -> bool:
        """A call that frees something; already gone (404/410) counts as done. True if it was."""
        try:
            await self.call(method, path, body)
            return True
        except YagnaError as exc:
            if exc.status in GONE:
                return False
            raise

    # --- payment: allocations ------------------------------------------------------------------

    async def create_allocation(self, total_glm: str, platform: str, timeout: str) -> str:
        """Not retried here: a lost answer may still have created it (see find_allocation)."""
        body = {
            "totalAmount": total_glm,
            "paymentPlatform": platform,
            "timeout": timeout,
            "makeDeposit": False,
        }
        reply = await self.call("POST", f"{PAYMENT}/allocations", body, retry=False)
        return str(reply["allocationId"])

    async def find_allocation(self, timeout: str) -> str | None:
        """Our allocation, recognised by the `timeout` we gave it (unique per job)."""
        for item in await self.call("GET", f"{PAYMENT}/allocations"):
            if _same_time(item.get("timeout"), timeout):
                return str(item["allocationId"])
        return None

    async def allocations(self) -> list[dict[str, Any]]:
        reply: list[dict[str, Any]] = await self.call("GET", f"{PAYMENT}/allocations", retry=False)
        return reply

    async def release_allocation(self, allocation_id: str) -> None:
        await self._gone_ok("DELETE", f"{PAYMENT}/allocations/{allocation_id}")

    async def decorations(self, allocation_id: str) -> dict[str, Any]:
        """`{properties: [{key, value}], constraints: [...]}` to merge into the demand."""
        path = f"{PAYMENT}/demandDecorations?allocationIds={allocation_id}"
        reply: dict[str, Any] = await self.call("GET", path)
        return reply

    # --- market: demands, proposals, agreements ------------------------------------------------

    async def subscribe(self, properties: dict[str, Any], constraints: str) -> str:
        """Not retried here: see find_demand."""
        body = {"properties": properties, "constraints": constraints}
        return str(await self.call("POST", f"{MARKET}/demands", body, retry=False))

    async def find_demand(self, key: str, value: str) -> str | None:
        """Our active demand whose property `key` is `value`."""
        found = await self.find_demands(key, lambda v: v == value)
        return found[0] if found else None

    async def find_demands(self, key: str, match: Callable[[str], bool]) -> list[str]:
        """Our active demands whose property `key` matches."""
        return [
            str(item["demandId"])
            for item in await self.call("GET", f"{MARKET}/demands")
            if match(str((item.get("properties") or {}).get(key, "")))
        ]

    async def unsubscribe(self, demand_id: str) -> None:
        await self._gone_ok("DELETE", f"{MARKET}/demands/{demand_id}")

    async def demand_events(self, demand_id: str, timeout: float) -> list[dict[str, Any]]:
        """Proposal events (long poll up to `timeout` s; each is handed out once)."""
        path = f"{MARKET}/demands/{demand_id}/events?timeout={timeout:g}&maxEvents=100"
        reply: list[dict[str, Any]] = await self.call("GET", path, wait=timeout)
        return reply

    async def counter(self, demand_id: str, proposal_id: str, demand: dict[str, Any]) -> str:
        """Counter-propose our demand to an offer: the provider answers with a Draft or rejects."""
        path = f"{MARKET}/demands/{demand_id}/proposals/{proposal_id}"
        return str(await self.call("POST", path, demand))

    async def create_agreement(self, proposal_id: str, valid_to: str) -> str:
        """Not retried here: the same proposal twice answers 410 once the first landed."""
        body = {"proposalId": proposal_id, "validTo": valid_to}
        return str(await self.call("POST", f"{MARKET}/agreements", body, retry=False))

    async def agreement(self, agreement_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.call("GET", f"{MARKET}/agreements/{agreement_id}")
        return reply

    async def confirm(self, agreement_id: str) -> None:
        """Send the agreement to the provider; a repeated confirm (409) is already done."""
        try:
            await self.call("POST", f"{MARKET}/agreements/{agreement_id}/confirm")
        except YagnaError as exc:
            if exc.status != 409:
                raise

    async def wait_approval(self, agreement_id: str, timeout: float) -> bool:
        """True once approved, False if still pending; YagnaError 410 when it ended."""
        path = f"{MARKET}/agreements/{agreement_id}/wait?timeout={timeout:g}"
        try:
            await self.call("POST", path, wait=timeout)
            return True
        except YagnaError as exc:
            if exc.status == 408:
                return False
            raise

    async def end_agreement(self, agreement_id: str, message: str) -> None:
        """Terminate an approved agreement, cancel one not yet approved; ended already is fine."""
        base = f"{MARKET}/agreements/{agreement_id}"
        try:
            await self._gone_ok("POST", f"{base}/terminate", {"message": message})
        except YagnaError as exc:
            if exc.status != 409:  # not approved (yet): withdraw it instead
                raise
            try:
                await self._gone_ok("POST", f"{base}/cancel")
            except YagnaError as again:
                if again.status != 409:  # approved in between: terminate after all
                    raise
                await self._gone_ok("POST", f"{base}/terminate", {"message": message})

    # --- activity ------------------------------------------------------------------------------

    async def create_activity(self, agreement_id: str) -> str:
        """Not retried blindly: the caller decides (it cannot list activities afterwards)."""
        body = {"agreementId": agreement_id}
        reply = await self.call("POST", f"{ACTIVITY}/activity", body, retry=False)
        return str(reply["activityId"] if isinstance(reply, dict) else reply)  # older: bare id

    async def exec(self, activity_id: str, script: list[dict[str, Any]]) -> str:
        body = {"text": json.dumps(script)}
        path = f"{ACTIVITY}/activity/{activity_id}/exec"
        return str(await self.call("POST", path, body, retry=False))

    async def batch_results(
        self, activity_id: str, batch_id: str, timeout: float
    ) -> list[dict[str, Any]]:
        path = f"{ACTIVITY}/activity/{activity_id}/exec/{batch_id}?timeout={timeout:g}"
        reply: list[dict[str, Any]] = await self.call("GET", path, wait=timeout)
        return reply

    async def batch_stream(self, activity_id: str, batch_id: str) -> AsyncIterator[dict[str, Any]]:
        """The batch's runtime events (SSE `data`), from its first, until the batch ends."""
        assert self._session is not None
        url = f"{self._base}{ACTIVITY}/activity/{activity_id}/exec/{batch_id}"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout)
        headers = {"Accept": "text/event-stream"}
        try:
            async with self._session.get(url, headers=headers, timeout=timeout) as response:
                if response.status >= 400:
                    raise YagnaError(response.status, (await response.text())[:200])
                async for raw in response.content:
                    line = raw.decode().strip()
                    if line.startswith("data:"):
                        yield json.loads(line[5:])
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise YagnaError(0, f"{type(exc).__name__}: {exc}") from exc

    async def activity_state(self, activity_id: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.call("GET", f"{ACTIVITY}/activity/{activity_id}/state")
        return reply

    async def activity_usage(self, activity_id: str) -> list[float]:
        """The usage counters, in the agreement's `golem.com.usage.vector` order."""
        reply = await self.call("GET", f"{ACTIVITY}/activity/{activity_id}/usage")
        return [float(v) for v in reply.get("currentUsage") or []]

    async def destroy_activity(self, activity_id: str) -> None:
        await self._gone_ok("DELETE", f"{ACTIVITY}/activity/{activity_id}")

    # --- payment: debit notes and invoices -----------------------------------------------------

    async def events(self, kind: str, after: str | None, timeout: float) -> list[dict[str, Any]]:
        """`debitNoteEvents` or `invoiceEvents` after a timestamp (long poll)."""
        query = f"timeout={timeout:g}&maxEvents=100"
        if after:
            query += f"&afterTimestamp={quote(after)}"
        reply: list[dict[str, Any]] = await self.call(
            "GET", f"{PAYMENT}/{kind}?{query}", wait=timeout
        )
        return reply

    async def document(self, kind: str, document_id: str) -> dict[str, Any]:
        """A `debitNotes` or `invoices` document."""
        reply: dict[str, Any] = await self.call("GET", f"{PAYMENT}/{kind}/{document_id}")
        return reply

    async def accept(self, kind: str, document_id: str, amount: str, allocation_id: str) -> None:
        """Accept a debit note or invoice in full against our allocation."""
        body = {"totalAmountAccepted": amount, "allocationId": allocation_id}
        await self.call("POST", f"{PAYMENT}/{kind}/{document_id}/accept", body)


def _same_time(a: Any, b: str) -> bool:
    """Two RFC 3339 times are the same instant (yagna may reformat them)."""
    if a is None:
        return False
    try:
        return parse_time(str(a)) == parse_time(b)
    except ValueError:
        return str(a) == b
