"""A local feed server on 127.0.0.1 (random port) that misbehaves in every way a feed host can.

Only loopback is ever contacted. The fetch tests that exercise normal fetching pass
allow_private=True, because this server is itself on a private (loopback) address.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from aiohttp import web

DATA = Path(__file__).parent / "data"
MIB = 1024 * 1024
HUGE_BYTES = 50 * MIB
CHUNK = 64 * 1024
ETAG = '"v7"'
LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"

FILES = {  # path -> (file in data/, Content-Type)
    "/rss2.xml": ("rss2.xml", "application/rss+xml; charset=utf-8"),
    "/rss1.rdf": ("rss1.rdf", "application/rdf+xml"),
    "/atom.xml": ("atom.xml", "application/atom+xml"),
    "/feed.json": ("feed.json", "application/feed+json"),
    "/summaries.xml": ("summaries.xml", "application/rss+xml"),
    "/invalid.xml": ("invalid.xml", "application/xml"),
    "/page.html": ("page.html", "text/html; charset=utf-8"),
    "/rss-as-html": ("rss2.xml", "text/html"),
    "/rss-as-text": ("rss2.xml", "text/plain"),
    "/rss-as-binary": ("rss2.xml", "application/octet-stream"),
    "/image.png": ("rss2.xml", "image/png"),
}


def billion_laughs(levels: int = 10) -> bytes:
    """The classic exponential-entity document: ten levels expand to 10**9 'lol's."""
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(entities) + "\n]>\n"
        f'<rss version="2.0"><channel><title>&lol{levels - 1};</title>'
        f"<item><title>Laughs</title><description>&lol{levels - 1};</description></item>"
        "</channel></rss>\n"
    ).encode()


@cache
def gzip_bomb() -> bytes:
    """50 MB of zeros as about 50 KB of gzip, built without holding 50 MB in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(CHUNK)
    parts = [packer.compress(zeros) for _ in range(HUGE_BYTES // CHUNK)]
    return b"".join(parts) + packer.flush()


@dataclass
class ServerState:
    requests: list[tuple[str, dict[str, str], float]] = field(default_factory=list)
    streamed: int = 0  # bytes the /huge handlers managed to hand to the socket
    stream_ended: asyncio.Event = field(default_factory=asyncio.Event)
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def headers_for(self, path: str) -> dict[str, str]:
        return next(headers for p, headers, _ in self.requests if p == path)


@dataclass
class FeedServer:
    base: str
    port: int
    state: ServerState

    def url(self, path: str) -> str:
        return self.base + path


def _routes(state: ServerState) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    def serve(name: str, content_type: str, **headers: str) -> web.Response:
        return web.Response(body=(DATA / name).read_bytes(),
                            headers={"Content-Type": content_type, **headers})

    def file_handler(name: str, content_type: str):  # type: ignore[no-untyped-def]
        async def handler(request: web.Request) -> web.Response:
            return serve(name, content_type)
        return handler

    for path, (name, content_type) in FILES.items():
        routes.get(path)(file_handler(name, content_type))

    @routes.get("/conditional.xml")
    async def conditional(request: web.Request) -> web.Response:
        validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        if (request.headers.get("If-None-Match") == ETAG
                or request.headers.get("If-Modified-Since") == LAST_MODIFIED):
            return web.Response(status=304, headers=validators)
        return serve("rss2.xml", "application/rss+xml", **validators)

    @routes.get("/gzip.xml")
    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress((DATA / "rss2.xml").read_bytes())
        return web.Response(body=body, headers={"Content-Type": "application/rss+xml",
                                                "Content-Encoding": "gzip"})

    @routes.get("/deflate.xml")
    async def deflated(request: web.Request) -> web.Response:
        body = zlib.compress((DATA / "atom.xml").read_bytes())
        return web.Response(body=body, headers={"Content-Type": "application/atom+xml",
                                                "Content-Encoding": "deflate"})

    @routes.get("/gzip-bomb.xml")
    async def bomb(request: web.Request) -> web.Response:
        return web.Response(body=gzip_bomb(), headers={"Content-Type": "application/rss+xml",
                                                       "Content-Encoding": "gzip"})

    @routes.get("/laughs.xml")
    async def laughs(request: web.Request) -> web.Response:
        return web.Response(body=billion_laughs(), content_type="application/rss+xml")

    @routes.get("/loop/{name}")
    async def loop(request: web.Request) -> web.Response:
        other = "b" if request.match_info["name"] == "a" else "a"
        raise web.HTTPFound(f"/loop/{other}")

    @routes.get("/hops/{left}")
    async def hops(request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        if left == 0:
            return serve("rss2.xml", "application/rss+xml")
        raise web.HTTPMovedPermanently(f"/hops/{left - 1}")

    @routes.get("/relative/start")
    async def relative(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect("../atom.xml")

    @routes.get("/redirect")
    async def redirect(request: web.Request) -> web.Response:
        # A plain header, not HTTPFound, which would refuse to send a malformed Location.
        return web.Response(status=302, headers={"Location": request.query["to"]})

    @routes.get("/huge")
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        return await _stream_zeros(response, state)

    @routes.get("/huge-declared")
    async def huge_declared(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = HUGE_BYTES
        await response.prepare(request)
        return await _stream_zeros(response, state)

    @routes.get("/drip")
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        for _ in range(60):
            await response.write(b" ")
            await asyncio.sleep(0.5)
        return response

    @routes.get("/hang")
    async def hang(request: web.Request) -> web.Response:
        await state.closing.wait()
        return web.Response(status=503)

    @routes.get("/status/{code}")
    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="no feed here")

    @routes.get("/empty")
    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"", content_type="application/rss+xml")

    return routes


async def _stream_zeros(response: web.StreamResponse, state: ServerState) -> web.StreamResponse:
    """Write up to 50 MB, counting what the socket accepted before the client hung up."""
    zeros = bytes(CHUNK)
    try:
        while state.streamed < HUGE_BYTES:
            await response.write(zeros)
            state.streamed += CHUNK
    except ConnectionError:
        pass  # the client hung up, which is what the size limit should make it do
    finally:
        state.stream_ended.set()
    return response


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    state = ServerState()

    @web.middleware
    async def record(request: web.Request, handler):  # type: ignore[no-untyped-def]
        state.requests.append((request.path, dict(request.headers), time.monotonic()))
        return await handler(request)

    app = web.Application(middlewares=[record])
    app.add_routes(_routes(state))
    runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield FeedServer(f"http://127.0.0.1:{port}", port, state)
    finally:
        state.closing.set()
        await runner.cleanup()
