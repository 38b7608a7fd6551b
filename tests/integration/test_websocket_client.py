"""The lean websocket client against real servers: aiohttp's, and a raw one whose frames a
test writes byte by byte (fragments, pings, masked frames, silence, a dropped connection)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from embedded.ports import free_port
from provider_runtime.websocket import (
    ABNORMAL_CLOSURE,
    HandshakeError,
    ProtocolError,
    text_stream,
)
from tests.integration.servers import aiohttp_server, self_signed

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
Session = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def frame(opcode: int, payload: bytes, fin: bool = True, masked: bool = False) -> bytes:
    """A frame as a server writes it (unmasked unless a test breaks the rule)."""
    head = bytes(((0x80 if fin else 0) | opcode,))
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes((mask_bit | size,))
    else:
        head += bytes((mask_bit | 126,)) + struct.pack("!H", size)
    return head + (b"\0\0\0\0" if masked else b"") + payload


async def read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """A frame the client sent: it must be masked (RFC 6455 5.3)."""
    first, second = await reader.readexactly(2)
    assert second & 0x80, "client frames are masked"
    mask = await reader.readexactly(4)
    payload = await reader.readexactly(second & 0x7F)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Session], Awaitable[str]]]:
    """Start a server that completes the handshake, then runs the test's `session`."""
    servers: list[asyncio.Server] = []

    async def start(session: Session) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            key = next(
                line.split(":", 1)[1].strip()
                for line in head.split("\r\n")
                if line.lower().startswith("sec-websocket-key")
            )
            accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n"
            )
            try:
                await session(reader, writer)
            finally:
                writer.close()

        port = free_port()
        servers.append(await asyncio.start_server(handle, "127.0.0.1", port))
        return f"ws://127.0.0.1:{port}/stream"

    yield start
    for server in servers:
        server.close()


async def test_messages_arrive_in_order_fragments_joined_binary_skipped_close_echoed(
    raw_server: Callable[[Session], Awaitable[str]],
) -> None:
    echoed: list[tuple[int, bytes]] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(0x1, b"first"))
        writer.write(frame(0x1, b"sec", fin=False))
        writer.write(frame(0x9, b"hi"))  # a ping between fragments is allowed
        writer.write(frame(0x0, b"ond"))
        writer.write(frame(0x2, b"\x00\x01binary"))
        writer.write(frame(0x1, "é".encode() * 200))  # 16-bit length
        writer.write(frame(0x8, struct.pack("!H", 4000) + b"no running pods"))
        echoed.append(await read_client_frame(reader))  # pong
        echoed.append(await read_client_frame(reader))  # close

    url = await raw_server(session)
    async with text_stream(url, {}) as messages:
        received = [text async for text in messages]
    assert received == ["first", "second", "é" * 200]
    assert messages.close_code == 4000
    await asyncio.sleep(0.05)
    assert echoed == [(0xA, b"hi"), (0x8, struct.pack("!H", 4000))]


async def test_a_connection_dropped_without_close_is_an_abnormal_closure(
    raw_server: Callable[[Session], Awaitable[str]],
) -> None:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(0x1, b"only"))

    async with text_stream(await raw_server(session), {}) as messages:
        received = [text async for text in messages]
    assert received == ["only"]
    assert messages.close_code == ABNORMAL_CLOSURE


@pytest.mark.parametrize(
    "bad, rule",
    [
        (frame(0x1, b"x", masked=True), "masked"),
        (bytes((0x80 | 0x40 | 0x1, 1)) + b"x", "reserved bits"),
        (frame(0x3, b"x"), "unknown opcode"),
        (frame(0x0, b"x"), "unexpected opcode"),
        (frame(0x1, b"x" * 300), "over 200 bytes"),
    ],
)
async def test_frames_that_break_the_protocol_are_refused(
    raw_server: Callable[[Session], Awaitable[str]], bad: bytes, rule: str
) -> None:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(bad)
        await asyncio.sleep(1)

    async with text_stream(await raw_server(session), {}, max_message=200) as messages:
        with pytest.raises(ProtocolError, match=rule):
            await anext(messages)


async def test_a_silent_server_is_pinged_kept_when_it_answers_and_dropped_when_not(
    raw_server: Callable[[Session], Awaitable[str]],
) -> None:
    async def answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opcode, payload = await read_client_frame(reader)  # silence until the ping
        assert opcode == 0x9
        writer.write(frame(0xA, payload))
        opcode, payload = await read_client_frame(reader)  # silent again: pinged again
        assert opcode == 0x9
        writer.write(frame(0xA, payload) + frame(0x1, b"still here") + frame(0x8, b"\x03\xe8"))

    async with text_stream(await raw_server(answers), {}, heartbeat=0.2) as messages:
        assert [text async for text in messages] == ["still here"]
    assert messages.close_code == 1000

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    async with text_stream(await raw_server(silent), {}, heartbeat=0.2) as messages:
        started = asyncio.get_running_loop().time()
        with pytest.raises(ConnectionError, match="answered no ping"):
            await anext(messages)
        assert asyncio.get_running_loop().time() - started < 2


async def test_leaving_early_sends_a_normal_close(
    raw_server: Callable[[Session], Awaitable[str]],
) -> None:
    received: list[tuple[int, bytes]] = []

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(0x1, b"one") + frame(0x1, b"two"))
        received.append(await read_client_frame(reader))

    async with text_stream(await raw_server(session), {}) as messages:
        assert await anext(messages) == "one"
    await asyncio.sleep(0.05)
    assert received == [(0x8, struct.pack("!H", 1000))]


async def test_interoperates_with_aiohttp_and_sends_its_headers() -> None:
    seen: dict[str, object] = {}

    async def stream(request: web.Request) -> web.WebSocketResponse:
        if request.headers.get("Authorization") != "Bearer t0ken":
            raise web.HTTPUnauthorized()
        seen["query"] = dict(request.query)
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"are you there")
        seen["pong"] = (await ws.receive()).data
        for i in range(3):
            await ws.send_str(f'{{"n": {i}}}')
        await ws.close(code=1000)
        return ws

    app = web.Application()
    app.router.add_get("/lease/1/kubeevents", stream)
    runner, port = await aiohttp_server(app)
    try:
        url = f"http://127.0.0.1:{port}/lease/1/kubeevents?follow=true&tail=-1"
        async with text_stream(url, {"Authorization": "Bearer t0ken"}) as messages:
            assert [text async for text in messages] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
        assert messages.close_code == 1000
        assert seen == {"query": {"follow": "true", "tail": "-1"}, "pong": b"are you there"}
        with pytest.raises(HandshakeError) as refused:
            async with text_stream(url, {"Authorization": "Bearer wrong"}):
                raise AssertionError("a refused handshake opens no session")
        assert refused.value.status == 401
    finally:
        await runner.cleanup()


async def test_wss_verifies_the_server_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)

    async def stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("over tls")
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/s", stream)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    runner, port = await aiohttp_server(app, server_tls)
    try:
        url = f"wss://127.0.0.1:{port}/s"
        with pytest.raises(ssl.SSLCertVerificationError):
            async with text_stream(url, {}):  # the system's trust does not know the cert
                raise AssertionError("an unverified server opens no session")
        trusted = ssl.create_default_context(cafile=str(cert))
        async with text_stream(url, {}, tls=trusted) as messages:
            assert [text async for text in messages] == ["over tls"]
    finally:
        await runner.cleanup()


async def test_refuses_urls_that_are_not_websockets() -> None:
    with pytest.raises(ValueError, match="not a websocket URL"):
        async with text_stream("ftp://127.0.0.1/x", {}):
            raise AssertionError("no session for a URL that is not a websocket's")
