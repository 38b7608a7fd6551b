"""Refuse webhook URLs that reach private networks, at creation and again at connect time."""

from __future__ import annotations

import asyncio
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from cortex_notifier.domain.addresses import refusal

MAX_URL_LENGTH = 2048


class UrlRefused(Exception):
    """This URL may not be a webhook target; the message says why."""


def parse_url(url: str) -> URL:
    """An absolute http(s) URL with a host, or UrlRefused."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parsed = URL(url)
    except ValueError:
        raise UrlRefused("is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UrlRefused("must be an absolute http:// or https:// URL")
    return parsed


def _is_ip(host: str) -> bool:
    return refusal(host, allow_private=True) != "not an IP address"


async def check_url(url: str, allow_private: bool) -> None:
    """Raise UrlRefused unless every address `url`'s host resolves to may be reached."""
    parsed = parse_url(url)
    host = parsed.host or ""
    if _is_ip(host):
        addresses = [host]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parsed.port, type=socket.SOCK_STREAM
            )
        except OSError:
            raise UrlRefused(f"host {host!r} does not resolve") from None
        addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        reason = refusal(address, allow_private)
        if reason:
            raise UrlRefused(f"host {host!r} is {address}, {reason}")


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default, then refuses forbidden addresses before any connect:
    a name that resolved to a public address at creation may point elsewhere today."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            reason = refusal(result["host"], self._allow_private)
            if reason:
                raise OSError(f"refused: {host} is {result['host']}, {reason}")
        return results

    async def close(self) -> None:
        await self._inner.close()
