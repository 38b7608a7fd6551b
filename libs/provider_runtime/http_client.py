"""An HTTP/1.1 keep-alive client for one JSON API (the Akash Console's plain calls).

Every job makes about four Console calls, so their cost is per job: aiohttp's client spends
~115–140 µs of CPU on each here (request and response objects, connector, timers, cookie and
redirect handling), this one ~25. Responses are parsed by httptools (llhttp, the parser
Node.js uses): status, headers, Content-Length, chunked bodies and keep-alive rules are its
job; this module only moves bytes and keeps idle connections. Decision 72.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, cast
from urllib.parse import urlsplit

import httptools

from runtime import codec

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TransportError(Exception):
    """No complete answer: refused, reset or closed early, not HTTP, or over the size cap."""


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes

    def json(self) -> Any:
        """The body as JSON (None when empty); ValueError when it is not JSON."""
        return codec.loads(self.body) if self.body else None


class _Connection(asyncio.Protocol):
    """One connection, one request at a time; parses the answer as it arrives."""

    def __init__(self, max_body: int) -> None:
        self._max_body = max_body
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.idle_since = 0.0
        self._answer: asyncio.Future[tuple[Reply, bool]] | None = None
        self._reset()

    def _reset(self) -> None:
        self._reason = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._headers_done = False

    def send(self, request: bytes) -> asyncio.Future[tuple[Reply, bool]]:
        """Write one request; the future gets the reply and whether to keep the connection."""
        assert self.transport is not None and self._answer is None
        self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._answer

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self._answer is None:  # nothing asked: a server talking out of turn
            self._fail(TransportError("the server sent data nobody asked for"))
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            cause = exc.__cause__ or exc.__context__  # a callback's own error (the size cap)
            if isinstance(cause, TransportError):
                self._fail(cause)
            else:
                self._fail(TransportError(f"not an HTTP answer: {exc!r}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._answer is None or self._answer.done():
            return
        if self._headers_done and self._reads_to_close():
            self._complete(keep_alive=False)  # the body ran until the server closed
        else:
            self._settle(TransportError("the server closed the connection before answering"))

    # httptools callbacks
    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._max_body:
            raise TransportError(f"answer over {self._max_body} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self._parser.get_status_code() < 200:  # interim (103 Early Hints): wait on
            self._reset()
            return
        self._complete(keep_alive=self._parser.should_keep_alive())

    # helpers
    def _reads_to_close(self) -> bool:
        coding = self._headers.get("transfer-encoding", "").lower()
        return "content-length" not in self._headers and "chunked" not in coding

    def _complete(self, keep_alive: bool) -> None:
        try:
            body = _decoded(b"".join(self._body), self._headers, self._max_body)
        except TransportError as exc:
            self._fail(exc)
            return
        status = self._parser.get_status_code()
        reply = Reply(status, self._reason.decode("latin-1"), self._headers, body)
        self._reset()
        self._settle((reply, keep_alive))

    def _fail(self, error: TransportError) -> None:
        self._settle(error)
        self.close()

    def _settle(self, outcome: tuple[Reply, bool] | TransportError) -> None:
        answer, self._answer = self._answer, None
        if answer is None or answer.done():
            return
        if isinstance(outcome, TransportError):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)


class HttpClient:
    """Requests to one origin (`http` or `https`, by default the system's trust), each with a
    total timeout; connections are kept for reuse while idle for less than `idle_timeout`."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float,
        *,
        tls: ssl.SSLContext | None = None,
        max_body: int = 64 << 20,
        idle_timeout: float = 15.0,
    ) -> None:
        target = urlsplit(base_url)
        if target.scheme not in ("http", "https") or not target.hostname:
            raise ValueError(f"not an http(s) URL: {base_url}")
        secure = target.scheme == "https"
        self._host, self._port = target.hostname, target.port or (443 if secure else 80)
        self._tls = (tls or _default_tls()) if secure else None
        self._prefix = target.path.rstrip("/")
        fixed = {
            "Host": target.netloc.rpartition("@")[2],
            "User-Agent": "cortex",
            "Accept": "application/json",
            **headers,
        }
        self._head = "".join(f"{_safe(k)}: {_safe(v)}\r\n" for k, v in fixed.items())
        self._timeout, self._max_body, self._idle_timeout = timeout, max_body, idle_timeout
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(self, method: str, path: str, json: Any = None) -> Reply:
        """One request; `path` is below the base URL and may carry a query string."""
        body = b"" if json is None else codec.dumps(json)
        head = f"{_token(method)} {_token(self._prefix + path)} HTTP/1.1\r\n{self._head}"
        if json is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        elif method not in _NO_BODY_METHODS:
            head += "Content-Length: 0\r\n"
        request = (head + "\r\n").encode("latin-1") + body
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(self._timeout):
                connection = self._reuse() or await self._connect()
                reply, keep_alive = await connection.send(request)
        except BaseException:
            if connection is not None:
                connection.close()  # mid-answer: never reused
            raise
        self._release(connection, keep_alive)
        return reply

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()

    def _reuse(self) -> _Connection | None:
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely to lapse
            if not connection.lost and now - connection.idle_since < self._idle_timeout:
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(self._max_body),
                self._host,
                self._port,
                ssl=self._tls,
                server_hostname=self._host if self._tls else None,
            )
        except OSError as exc:  # refused, unreachable, name not resolved, TLS refused
            raise TransportError(f"cannot connect to {self._host}:{self._port}: {exc}") from exc
        return connection

    def _release(self, connection: _Connection, keep_alive: bool) -> None:
        if keep_alive and not connection.lost and not self._closed:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.close()


def _decoded(body: bytes, headers: Mapping[str, str], limit: int) -> bytes:
    """The body without its content coding (none is asked for, but a server may use one)."""
    coding = headers.get("content-encoding", "identity").strip().lower()
    if coding == "identity" or not body:
        return body
    if coding not in ("gzip", "deflate"):
        raise TransportError(f"unsupported content-encoding {coding}")
    # gzip; deflate as RFC 9110 means it (zlib-wrapped), or raw as some servers send it
    for wbits in (16 + zlib.MAX_WBITS,) if coding == "gzip" else (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        inflater = zlib.decompressobj(wbits)
        try:
            plain = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(plain) > limit:
            raise TransportError(f"answer over {limit} bytes")
        if inflater.eof:
            return plain
    raise TransportError(f"a {coding} body that does not inflate")


def _token(text: str) -> str:
    """Refuse a method or request target that would break the request line: anything but
    printable ASCII without spaces (C string methods: this runs on every call)."""
    if not text or not text.isascii() or not text.isprintable() or " " in text:
        raise ValueError(f"not usable in a request line: {text!r}")
    return text


def _safe(text: str) -> str:
    """Refuse what would split the request head (a line break in a header or the path)."""
    if "\r" in text or "\n" in text:
        raise ValueError("line breaks are not allowed in a request head")
    return text


@cache
def _default_tls() -> ssl.SSLContext:
    return ssl.create_default_context()
