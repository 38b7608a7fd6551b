"""POST one signed delivery: no redirects, a hard timeout, only permitted addresses."""

from __future__ import annotations

import time

import aiohttp

from contracts.signatures import sign
from cortex_notifier.adapters.guard import GuardedResolver, UrlRefused, parse_url
from cortex_notifier.domain.addresses import refusal
from cortex_notifier.domain.model import Outcome

USER_AGENT = "Cortex-Webhooks/1"
MAX_ERROR = 300


class Sender:
    """One connection pool for every webhook (keep-alive matters at 1,000 deliveries/s)."""

    def __init__(self, timeout: float, allow_private: bool) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._allow_private = allow_private
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=0, limit_per_host=0, resolver=GuardedResolver(self._allow_private)
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar()
        )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self,
        url: str,
        secret: str,
        message_id: str,
        event_type: str,
        body: bytes,
        delivery_id: str | None = None,
    ) -> Outcome:
        """One attempt; never raises: every failure is an Outcome with its error."""
        assert self._session is not None, "Sender.start() first"
        started = time.perf_counter()
        try:
            host = parse_url(url).host or ""
            # IP literals skip the resolver, so they are checked here.
            reason = refusal(host, self._allow_private)
            if reason and reason != "not an IP address":
                raise UrlRefused(f"refused: {host} is {reason}")
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Cortex-Event": event_type,
                **sign(secret, message_id, body),
            }
            if delivery_id:
                headers["X-Cortex-Delivery"] = delivery_id
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.content.read(64 * 1024)  # drain a little so keep-alive works
                status = response.status
        except TimeoutError:
            return Outcome(False, None, _ms(started), "timed out")
        except (aiohttp.ClientError, OSError, UrlRefused) as exc:
            return Outcome(False, None, _ms(started), _error(exc))
        ok = 200 <= status < 300
        error = (
            None
            if ok
            else f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        )
        return Outcome(ok, status, _ms(started), error)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:MAX_ERROR]
