"""A websocket client for streams a server pushes (a lease's logs and Kubernetes events).

Every job opens two such streams, so their cost is per job: aiohttp's `ws_connect` costs
about three times a plain asyncio stream per session (connector, happy eyeballs, request and
response objects, heartbeat timers); this client reads RFC 6455 frames off a stream and
writes only the few frames a reading client sends (pong, close). Decision 68.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from functools import cache
from urllib.parse import urlsplit

_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
NORMAL_CLOSURE = 1000
NO_STATUS = 1005  # a close frame without a code
ABNORMAL_CLOSURE = 1006  # the connection ended without a close frame


class HandshakeError(Exception):
    """The server did not switch to the websocket protocol."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"websocket handshake refused: {status} {reason}".rstrip())
        self.status = status


class ProtocolError(Exception):
    """The server broke RFC 6455 (or a message was over the size limit)."""


class TextStream:
    """The text messages of one websocket session, until the server closes it.

    Binary messages are skipped; pings are answered. When the iteration ends, `close_code`
    says how: the server's close code, `NO_STATUS`, or `ABNORMAL_CLOSURE` when the
    connection ended without a close frame.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        heartbeat: float,
        max_message: int,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._heartbeat = heartbeat
        self._max_message = max_message
        self.close_code: int | None = None
        self._loop = asyncio.get_running_loop()
        self._last_frame = self._loop.time()
        self._pinged = False
        self._silent = False  # dropped for not answering a ping
        self._watchdog = self._loop.call_later(heartbeat, self._watch)

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> str:
        fragments: list[bytes] = []
        size = 0  # bytes in `fragments`
        kind = None  # the opcode of the message being reassembled
        while self.close_code is None:
            frame = await self._frame()
            if frame is None:
                self.close_code = ABNORMAL_CLOSURE
                break
            fin, opcode, payload = frame
            if opcode == PING:
                self._send(PONG, payload)
            elif opcode == CLOSE:
                self._closed_by_server(payload)
            elif opcode in (CONTINUATION, TEXT, BINARY):
                if (opcode == CONTINUATION) != (kind is not None):
                    raise ProtocolError(f"unexpected opcode {opcode} inside a fragmented message")
                kind = kind if opcode == CONTINUATION else opcode
                fragments.append(payload)
                size += len(payload)
                if size > self._max_message:
                    raise ProtocolError(f"message over {self._max_message} bytes")
                if fin:
                    if kind == TEXT:
                        return b"".join(fragments).decode("utf-8")
                    fragments, size, kind = [], 0, None  # binary: not ours to read
            elif opcode != PONG:
                raise ProtocolError(f"unknown opcode {opcode}")
        raise StopAsyncIteration

    async def _frame(self) -> tuple[bool, int, bytes] | None:
        """The next frame (RFC 6455 5.2), or None at the end of the connection."""
        try:
            first, second = await self._reader.readexactly(2)
        except asyncio.IncompleteReadError:
            if self._silent:
                raise ConnectionError("the websocket server answered no ping") from None
            return None
        self._last_frame = self._loop.time()
        if first & 0x70:
            raise ProtocolError("reserved bits set, but no extension was negotiated")
        if second & 0x80:
            raise ProtocolError("a server frame was masked")
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await self._reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await self._reader.readexactly(8), "big")
        if size > self._max_message:
            raise ProtocolError(f"frame over {self._max_message} bytes")
        payload = await self._reader.readexactly(size) if size else b""
        return bool(first & 0x80), first & 0x0F, payload

    def _watch(self) -> None:
        """Ping a server silent for `heartbeat` seconds; drop it if it stays silent for
        half that again. One timer per session, not one per frame: most sessions are short."""
        silent_for = self._loop.time() - self._last_frame
        if silent_for < self._heartbeat:
            self._pinged = False
            self._watchdog = self._loop.call_later(self._heartbeat - silent_for, self._watch)
        elif not self._pinged:
            self._pinged = True
            self._send(PING, b"")
            self._watchdog = self._loop.call_later(self._heartbeat / 2, self._watch)
        else:
            self._silent = True
            self._writer.transport.abort()

    def _closed_by_server(self, payload: bytes) -> None:
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else NO_STATUS
        self.close_code = code
        # Echo the code (RFC 6455 5.5.1) unless it is one that must not be sent.
        self._send(CLOSE, payload[:2] if code != NO_STATUS else b"")
        self._writer.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(_client_frame(opcode, payload))

    def close(self) -> None:
        """Leave: a normal close frame if the server has not closed, then the connection."""
        self._watchdog.cancel()
        if self.close_code is None:
            self._send(CLOSE, NORMAL_CLOSURE.to_bytes(2, "big"))
            self.close_code = NORMAL_CLOSURE
        self._writer.close()


@contextlib.asynccontextmanager
async def text_stream(
    url: str,
    headers: Mapping[str, str],
    *,
    heartbeat: float = 30.0,
    connect_timeout: float = 30.0,
    max_message: int = 4 << 20,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[TextStream]:
    """Open a websocket session at `url` (`ws`/`http`, or `wss`/`https` with `tls`, by
    default the system's trust and hostname checks) and read its text messages; the session
    is closed when the block ends."""
    target = urlsplit(url)
    secure = target.scheme in ("https", "wss")
    if target.scheme not in ("http", "ws", "https", "wss") or not target.hostname:
        raise ValueError(f"not a websocket URL: {url}")
    port = target.port or (443 if secure else 80)
    host = target.netloc.rpartition("@")[2]
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    async with asyncio.timeout(connect_timeout):
        reader, writer = await asyncio.open_connection(
            target.hostname, port, ssl=(tls or _default_tls()) if secure else None
        )
        try:
            await _handshake(reader, writer, host, path, headers)
        except BaseException:
            writer.close()
            raise
    stream = TextStream(reader, writer, heartbeat, max_message)
    try:
        yield stream
    finally:
        stream.close()


async def _handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    path: str,
    headers: Mapping[str, str],
) -> None:
    """Send the opening handshake and check the server's answer (RFC 6455 4.1)."""
    key = base64.b64encode(os.urandom(16))
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise ConnectionError("the server closed the connection during the handshake") from None
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    _, _, rest = status_line.partition(" ")
    code, _, reason = rest.partition(" ")
    status = int(code) if code.isdigit() else 0
    if status != 101:
        raise HandshakeError(status, reason)
    answer = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        answer[name.strip().lower()] = value.strip()
    expected = base64.b64encode(hashlib.sha1(key + _ACCEPT_GUID).digest()).decode()
    if (
        answer.get("upgrade", "").lower() != "websocket"
        or answer.get("sec-websocket-accept") != expected
    ):
        raise HandshakeError(status, "the server's upgrade answer does not match the request")


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A final frame as a client must send it: masked with a fresh key (RFC 6455 5.3);
    only control frames are sent here, so the payload is at most 125 bytes."""
    if len(payload) > 125:
        raise ValueError("a control frame carries at most 125 bytes")
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i & 3] for i, byte in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked


@cache
def _default_tls() -> ssl.SSLContext:
    return ssl.create_default_context()
