"""The providers' gateway server: HTTP/1.1 for lease status and usage, RFC 6455 websockets for
a lease's logs and Kubernetes events.

A real provider serves its gateway on its own host, not Console's; so does the devnet, on a
port of its own. Every job opens two websocket sessions here, and aiohttp's server spent
~200 µs of CPU on each (request and response objects, a frame reader and writer, a close
handshake with its timer); this server ~65: httptools parses requests (llhttp), a session is
a handshake answer, the frames the feeds produce, and a close. Decision 73.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import struct
import traceback
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import parse_qsl

import httptools
import orjson

from devnets.akash import gateway_api
from devnets.akash.gateway_api import Batches, LeaseRequest, Refusal
from devnets.akash.http import ApiError
from devnets.akash.network import AkashNetwork
from devnets.akash.state import MarketError

_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3
CLOSE, PING, PONG = 0x8, 0x9, 0xA
NORMAL_CLOSURE, PROTOCOL_ERROR, TOO_BIG = 1000, 1002, 1009
# A slow reader: stop writing until the socket's send buffer is below this.
WRITE_BUFFER_LIMIT = 1 << 20
MAX_CLIENT_FRAME = 1 << 16  # a reading client sends control frames only
CLOSE_TIMEOUT = 5.0  # how long a closing session waits for the client's close frame
# Every job connects twice at once; a full accept queue drops the SYN and the client's
# kernel retries only after a second (decision 74).
LISTEN_BACKLOG = 1024


class GatewayServer:
    """Serves every simulated provider's gateway under `/gateway/<provider>/...`."""

    def __init__(self, network: AkashNetwork) -> None:
        self.network = network
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[_Connection] = set()

    async def start(self, host: str, port: int) -> str:
        """Listen (port 0: any free port); returns the base URL."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), host, port, backlog=LISTEN_BACKLOG
        )
        sockets = getattr(self._server, "sockets", None) or []
        return f"http://{host}:{sockets[0].getsockname()[1]}"

    async def close(self) -> None:
        """Stop listening and drop every connection (their sessions end with them)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.abort()

    def connections(self) -> list[_Connection]:
        return list(self._connections)

    def opened(self, connection: _Connection) -> None:
        self._connections.add(connection)

    def closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)


class _Connection(asyncio.Protocol):
    """One client connection: requests one after another, or one websocket session."""

    def __init__(self, server: GatewayServer) -> None:
        self._server = server
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._session: _Session | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._transport.set_write_buffer_limits(high=WRITE_BUFFER_LIMIT)
        self._server.opened(self)

    def data_received(self, data: bytes) -> None:
        if self._session is not None:
            self._session.feed(data)
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:  # frames right behind the handshake
            if self._session is not None:
                self._session.feed(data[upgrade.args[0] :])
            else:  # refused before the handshake: the parser reads no more of this connection
                self.close_after_write()
        except httptools.HttpParserError:
            self._answer(400, {"error": "BadRequestError", "message": "malformed request"})
            self.close_after_write()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._session is not None:
            self._session.lost()
        self._server.closed(self)

    def pause_writing(self) -> None:
        if self._session is not None:
            self._session.writable.clear()

    def resume_writing(self) -> None:
        if self._session is not None:
            self._session.writable.set()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_message_complete(self) -> None:
        url, headers = httptools.parse_url(self._url), self._headers
        self._url, self._headers = b"", {}
        path = url.path.decode("latin-1")
        query = dict(parse_qsl(url.query.decode("latin-1"))) if url.query else {}
        method = self._parser.get_method().decode("latin-1")
        try:
            self._handle(method, path, query, headers)
        except (ApiError, MarketError) as exc:
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            self._answer(exc.status, {"error": exc.error, "message": message})
        except Exception:  # a bug: say so, and keep serving other connections
            traceback.print_exc()
            self._answer(500, {"error": "InternalServerError", "message": "gateway error"})
        if self._session is None and not self._parser.should_keep_alive():
            self.close_after_write()

    # requests
    def _handle(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> None:
        parts = path.split("/")  # "", "gateway", provider, "lease", dseq, gseq, oseq, action
        if (
            len(parts) != 8
            or parts[:2] != ["", "gateway"]
            or parts[3] != "lease"
            or parts[7] not in ("status", "usage", "logs", "kubeevents")
        ):
            raise ApiError(404, f"no such gateway route: {path}")
        if method != "GET":
            raise ApiError(405, f"{method} is not allowed here")
        lease = LeaseRequest(parts[2], parts[4], parts[5], parts[6])
        network = self._server.network
        key = gateway_api.authorize(network, lease, headers.get("authorization", ""))
        run = network.find_run(lease.provider, key)
        action = parts[7]
        if action in ("status", "usage"):
            if run is None:
                raise ApiError(404, "lease not found")
            view = gateway_api.lease_status if action == "status" else gateway_api.lease_usage
            self._answer(200, view(run))
        else:
            feed = gateway_api.lease_logs if action == "logs" else gateway_api.lease_events
            source = feed(run, query)  # bad query parameters: an HTTP error, no session
            self._upgrade(headers, source)

    def _answer(self, status: int, body: Any) -> None:
        assert self._transport is not None
        payload = orjson.dumps(body)
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self._transport.write(head.encode("latin-1") + payload)

    def _upgrade(self, headers: Mapping[str, str], source: Batches | Refusal) -> None:
        """Answer the opening handshake (RFC 6455 4.2) and start the session."""
        assert self._transport is not None
        key = headers.get("sec-websocket-key", "")
        if (
            headers.get("upgrade", "").lower() != "websocket"
            or "upgrade" not in headers.get("connection", "").lower()
            or headers.get("sec-websocket-version") != "13"
            or not _valid_key(key)
        ):
            raise ApiError(400, "a websocket upgrade (version 13) is required here")
        accept = base64.b64encode(hashlib.sha1(key.encode("latin-1") + _ACCEPT_GUID).digest())
        self._transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self._session = _Session(self._transport, source)

    def write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() if self._transport else 0

    def close_after_write(self) -> None:
        if self._transport is not None:
            self._transport.close()  # closes once what was written is sent

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class _Session:
    """A server's half of one websocket session: send the feed's items, answer the client's
    control frames, close normally when the feed ends or as the client asks."""

    def __init__(self, transport: asyncio.Transport, source: Batches | Refusal) -> None:
        self._transport = transport
        self._buffer = bytearray()
        self._close_sent = False
        self._close_timer: asyncio.TimerHandle | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self._task: asyncio.Task[None] | None = None
        if isinstance(source, Refusal):
            self._close(source.code, source.reason)
        else:
            self._task = asyncio.get_running_loop().create_task(self._send_all(source))

    async def _send_all(self, batches: Batches) -> None:
        try:
            async for items in batches:
                if self._close_sent or self._transport.is_closing():
                    return
                # One socket write per batch: a chatty workload's thousands of lines a second
                # would otherwise cost a system call each.
                self._transport.write(b"".join(_frame(0x1, orjson.dumps(i)) for i in items))
                await self.writable.wait()  # cleared while the client reads too slowly
        finally:
            with contextlib.suppress(Exception):
                await batches.aclose()
        self._close(NORMAL_CLOSURE, "")

    def feed(self, data: bytes) -> None:
        """Frames from the client (RFC 6455 5.2): masked, and only control frames matter."""
        self._buffer += data
        while len(self._buffer) >= 2:
            first, second = self._buffer[0], self._buffer[1]
            if not second & 0x80:
                self._fail(PROTOCOL_ERROR, "client frames must be masked")
                return
            size, offset = second & 0x7F, 2
            if size == 126:
                if len(self._buffer) < 4:
                    return
                size, offset = struct.unpack_from("!H", self._buffer, 2)[0], 4
            elif size == 127:
                if len(self._buffer) < 10:
                    return
                size, offset = struct.unpack_from("!Q", self._buffer, 2)[0], 10
            if size > MAX_CLIENT_FRAME:
                self._fail(TOO_BIG, "frame too big")
                return
            if len(self._buffer) < offset + 4 + size:
                return
            mask = self._buffer[offset : offset + 4]
            body = self._buffer[offset + 4 : offset + 4 + size]
            del self._buffer[: offset + 4 + size]
            self._control(first & 0x0F, bytes(b ^ mask[i & 3] for i, b in enumerate(body)))

    def _control(self, opcode: int, payload: bytes) -> None:
        if opcode == PING:
            if not self._close_sent:
                self._transport.write(_frame(PONG, payload))
        elif opcode == CLOSE:
            self._stop_sending()
            if not self._close_sent:  # echo the client's code (RFC 6455 5.5.1)
                self._close_sent = True
                self._transport.write(_frame(CLOSE, payload[:2]))
            self._transport.close()
        # text, binary, pong: a reading client has nothing to say

    def _close(self, code: int, reason: str) -> None:
        """Send a close frame; the client answers with its own, or is dropped after a while."""
        if self._close_sent or self._transport.is_closing():
            return
        self._close_sent = True
        self._transport.write(_frame(CLOSE, code.to_bytes(2, "big") + reason.encode()))
        loop = asyncio.get_running_loop()
        self._close_timer = loop.call_later(CLOSE_TIMEOUT, self._transport.abort)

    def _fail(self, code: int, reason: str) -> None:
        self._stop_sending()
        self._close(code, reason)
        self._buffer.clear()

    def _stop_sending(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def lost(self) -> None:
        """The connection ended: stop following the feed."""
        self._stop_sending()
        self.writable.set()
        if self._close_timer is not None:
            self._close_timer.cancel()


def _frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked, final frame (RFC 6455 5.2): what a server sends."""
    size = len(payload)
    if size < 126:
        return bytes((0x80 | opcode, size)) + payload
    if size < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, size) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, size) + payload


def _valid_key(key: str) -> bool:
    """A Sec-WebSocket-Key is 16 random bytes in base64 (RFC 6455 4.1)."""
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False
