"""The lean HTTP client against real servers: aiohttp's, and a raw one whose answers a test
writes byte by byte (chunked, compressed, read to close, early close, garbage, silence)."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from embedded.ports import free_port
from provider_runtime.http_client import HttpClient, TransportError
from tests.integration.servers import aiohttp_server, self_signed

Answer = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """Reads each request head (and its Content-Length body); the test's `answer` replies."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.closed = 0  # connections that ended (the client closed them, or the server did)
        self.requests: list[bytes] = []
        self.port = free_port()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                await self.answer(request, reader, writer)
                if writer.is_closing():
                    return
        finally:
            self.closed += 1
            writer.close()


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[Answer], Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(answer: Answer) -> RawServer:
        server = RawServer(answer)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def reply(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


async def test_json_calls_to_aiohttp_carry_headers_query_and_body_on_one_connection() -> None:
    seen: list[dict[str, object]] = []
    peers: set[object] = set()

    async def echo(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.json() if request.can_read_body else None
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "key": request.headers.get("x-api-key"),
                "type": request.headers.get("Content-Type"),
                "body": body,
            }
        )
        if request.match_info["name"] == "missing":
            return web.json_response({"message": "no such deployment"}, status=404)
        return web.json_response({"data": {"echo": body}})

    app = web.Application()
    app.router.add_route("*", "/v1/{name}", echo)
    runner, port = await aiohttp_server(app)
    client = HttpClient(f"http://127.0.0.1:{port}", {"x-api-key": "s3cret"}, timeout=5)
    try:
        created = await client.request("POST", "/v1/deployments", {"data": {"sdl": "ü"}})
        listed = await client.request("GET", "/v1/bids?dseq=42&limit=5")
        closed = await client.request("DELETE", "/v1/deployments")
        missing = await client.request("GET", "/v1/missing")
    finally:
        await client.close()
        await runner.cleanup()
    assert (created.status, created.json()) == (200, {"data": {"echo": {"data": {"sdl": "ü"}}}})
    assert listed.json() == {"data": {"echo": None}}
    assert closed.status == 200
    assert (missing.status, missing.reason) == (404, "Not Found")
    assert missing.json() == {"message": "no such deployment"}
    assert missing.headers["content-type"].startswith("application/json")
    assert seen[0] == {
        "method": "POST",
        "path": "/v1/deployments",
        "query": {},
        "key": "s3cret",
        "type": "application/json",
        "body": {"data": {"sdl": "ü"}},
    }
    assert seen[1]["query"] == {"dseq": "42", "limit": "5"}
    assert [s["method"] for s in seen] == ["POST", "GET", "DELETE", "GET"]
    assert len(peers) == 1, "four calls in a row share one kept-alive connection"


async def test_concurrent_calls_each_get_their_own_answer_and_connections_are_reused(
    raw: Callable[[Answer], Awaitable[RawServer]],
) -> None:
    async def answer(request: bytes, _: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        path = request.split(b" ", 2)[1]
        await asyncio.sleep(0.01)  # overlap: the next call cannot take this connection
        w.write(reply(b'{"path": "%s"}' % path, f"Content-Length: {len(path) + 12}"))

    server = await raw(answer)
    client = HttpClient(server.url, {}, timeout=5)
    try:
        for _ in range(3):
            replies = await asyncio.gather(*(client.request("GET", f"/n/{i}") for i in range(20)))
            assert [r.json()["path"] for r in replies] == [f"/n/{i}" for i in range(20)]
    finally:
        await client.close()
    assert server.connections == 20, "the second and third rounds reuse the first's connections"


async def test_chunked_compressed_and_read_to_close_bodies_arrive_whole(
    raw: Callable[[Answer], Awaitable[RawServer]],
) -> None:
    document = b'{"data": [' + b",".join(b'{"n": %d}' % i for i in range(500)) + b"]}"
    zipped, deflated = gzip.compress(document), zlib.compress(document)
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    bare = raw_deflate.compress(document) + raw_deflate.flush()

    async def answer(request: bytes, _: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        path = request.split(b" ", 2)[1]
        if path == b"/chunked":
            w.write(reply(b"", "Transfer-Encoding: chunked"))
            for start in range(0, len(document), 700):  # chunks cut across packets
                piece = document[start : start + 700]
                w.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await w.drain()
            w.write(b"0\r\n\r\n")
        elif path in (b"/gzip", b"/deflate", b"/raw-deflate"):
            body, coding = {
                b"/gzip": (zipped, "gzip"),
                b"/deflate": (deflated, "deflate"),
                b"/raw-deflate": (bare, "deflate"),
            }[path]
            w.write(reply(body, f"Content-Encoding: {coding}", f"Content-Length: {len(body)}"))
        else:  # no length, no chunks: the body ends when the server closes
            w.write(reply(document, "Connection: close"))
            await w.drain()
            w.close()

    server = await raw(answer)
    client = HttpClient(server.url, {}, timeout=5)
    try:
        for path in ("/chunked", "/gzip", "/deflate", "/raw-deflate", "/to-close", "/chunked"):
            assert (await client.request("GET", path)).body == document, path
    finally:
        await client.close()
    # Kept alive until the answer read to its close; the last call needed a new connection.
    assert server.connections == 2


async def test_a_server_that_closes_idle_or_says_close_gets_a_fresh_connection(
    raw: Callable[[Answer], Awaitable[RawServer]],
) -> None:
    async def answer(request: bytes, _: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        path = request.split(b" ", 2)[1]
        if path == b"/close":
            w.write(reply(b"{}", "Content-Length: 2", "Connection: close"))
        else:
            w.write(reply(b"{}", "Content-Length: 2"))
        await w.drain()
        if path in (b"/close", b"/then-hang-up"):
            w.close()

    server = await raw(answer)
    client = HttpClient(server.url, {}, timeout=5)
    try:
        await client.request("GET", "/close")  # "Connection: close": not kept
        await client.request("GET", "/then-hang-up")  # kept, but the server hangs up after
        await asyncio.sleep(0.1)  # the hang-up is seen while the connection is idle
        await client.request("GET", "/ok")
        await client.request("GET", "/ok")  # this one reuses the previous connection
    finally:
        await client.close()
    assert server.connections == 3


async def test_connections_idle_longer_than_the_idle_timeout_are_not_reused(
    raw: Callable[[Answer], Awaitable[RawServer]],
) -> None:
    async def answer(request: bytes, _: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(reply(b"{}", "Content-Length: 2"))

    server = await raw(answer)
    client = HttpClient(server.url, {}, timeout=5, idle_timeout=0.2)
    try:
        await client.request("GET", "/a")
        await client.request("GET", "/b")  # at once: reused
        await asyncio.sleep(0.3)
        await client.request("GET", "/c")  # idle too long: the server may be closing it
    finally:
        await client.close()
    assert server.connections == 2


async def test_no_answer_is_a_transport_error_or_a_timeout_and_the_connection_is_dropped(
    raw: Callable[[Answer], Awaitable[RawServer]],
) -> None:
    async def answer(request: bytes, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        path = request.split(b" ", 2)[1]
        if path == b"/hang-up":
            w.close()
        elif path == b"/cut":
            w.write(reply(b'{"data": [1, 2', "Content-Length: 200"))
            await w.drain()
            w.close()
        elif path == b"/garbage":
            w.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        elif path == b"/too-big":
            w.write(reply(b"x" * 2048, "Content-Length: 2048"))
        elif path == b"/bomb":
            body = gzip.compress(b"0" * 100_000)
            w.write(reply(body, "Content-Encoding: gzip", f"Content-Length: {len(body)}"))
        elif path == b"/silent":
            await r.read()  # until the client gives up
        else:
            w.write(reply(b"{}", "Content-Length: 2"))

    server = await raw(answer)
    client = HttpClient(server.url, {}, timeout=0.5, max_body=1024)
    try:
        for path, error in (
            ("/hang-up", "closed the connection before answering"),
            ("/cut", "closed the connection before answering"),
            ("/garbage", "not an HTTP answer"),
            ("/too-big", "over 1024 bytes"),
            ("/bomb", "over 1024 bytes"),
        ):
            with pytest.raises(TransportError, match=error):
                await client.request("GET", path)
            assert (await client.request("GET", "/ok")).json() == {}, f"after {path}"
        with pytest.raises(TimeoutError):
            await client.request("GET", "/silent")
        assert (await client.request("GET", "/ok")).status == 200
    finally:
        await client.close()
    # Every failed call dropped its connection; each "/ok" after one reused nothing broken.
    assert server.connections == 7


async def test_a_cancelled_call_leaves_no_half_read_connection_behind(
    raw: Callable[[Answer], Awaitable[RawServer]],
) -> None:
    async def answer(request: bytes, _: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        if request.split(b" ", 2)[1] == b"/slow":
            await asyncio.sleep(0.3)  # answers after the caller gave up
        w.write(reply(b'{"late": %d}' % (b"/slow" in request), "Content-Length: 11"))

    server = await raw(answer)
    client = HttpClient(server.url, {}, timeout=5)
    try:
        call = asyncio.ensure_future(client.request("GET", "/slow"))
        await asyncio.sleep(0.1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.sleep(0.5)
        assert server.closed == 1, "the cancelled call's connection was closed, not left open"
        assert (await client.request("GET", "/fast")).json() == {"late": 0}
    finally:
        await client.close()


async def test_an_unreachable_server_is_a_transport_error() -> None:
    client = HttpClient(f"http://127.0.0.1:{free_port()}", {}, timeout=5)
    with pytest.raises(TransportError, match="cannot connect"):
        await client.request("GET", "/v1/deployments")


async def test_https_verifies_the_server_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"data": "over tls"})

    app = web.Application()
    app.router.add_get("/v1/hello", hello)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    runner, port = await aiohttp_server(app, server_tls)
    url = f"https://127.0.0.1:{port}"
    try:
        with pytest.raises(TransportError) as refused:  # the system's trust: unknown cert
            await HttpClient(url, {}, timeout=5).request("GET", "/v1/hello")
        assert isinstance(refused.value.__cause__, ssl.SSLCertVerificationError)
        trusted = ssl.create_default_context(cafile=str(cert))
        client = HttpClient(url, {}, timeout=5, tls=trusted)
        assert (await client.request("GET", "/v1/hello")).json() == {"data": "over tls"}
        await client.close()
    finally:
        await runner.cleanup()


def test_what_would_break_the_request_head_is_refused() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        HttpClient("http://127.0.0.1:1", {"x-api-key": "k\r\nX-Evil: 1"}, timeout=1)
    with pytest.raises(ValueError, match="not an http"):
        HttpClient("ftp://127.0.0.1/", {}, timeout=1)


async def test_a_request_target_with_spaces_is_refused_before_anything_is_sent(
    raw: Callable[[Answer], Awaitable[RawServer]],
) -> None:
    async def answer(request: bytes, _: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(reply(b"{}", "Content-Length: 2"))

    server = await raw(answer)
    client = HttpClient(server.url, {}, timeout=5)
    with pytest.raises(ValueError, match="request line"):
        await client.request("GET", "/v1/x HTTP/1.1\r\nHost: elsewhere")
    await client.close()
    assert server.requests == []
