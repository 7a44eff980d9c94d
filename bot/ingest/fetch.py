"""Fetch one feed over HTTP(S) with hard limits on time, size, redirects and destinations.

Feeds are fetched unattended, from URLs that chat users supply, so every expected failure
becomes a FetchResult with a short human reason (shown to whoever added the source) instead of
an exception, and no server can hold the bot for long, fill its memory or aim it inward.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import zlib
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx

from bot.ingest.netguard import AddressError, GuardedTransport, checked_addresses

log = logging.getLogger(__name__)

MIB = 1024 * 1024
USER_AGENT = "newsdigest/0.1 (+https://github.com/newsdigest; feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
_ZLIB_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_LENIENT_TYPES = frozenset({"text/plain", "application/octet-stream", "text/html"})


@dataclass(frozen=True)
class FetchLimits:
    """How long, how big and how far one fetch may go."""

    timeout: float = 20.0  # total deadline for the whole fetch, redirects included
    read_timeout: float = 10.0  # longest wait to connect or for the next bytes
    max_bytes: int = 5 * MIB  # of the decoded body
    max_redirects: int = 5
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class FetchResult:
    """What a fetch produced; `reason` is set exactly when status is "error"."""

    status: Literal["ok", "not_modified", "error"]
    url: str  # the last URL requested: after redirects, or where the fetch failed
    body: bytes = b""
    content_type: str | None = None  # the Content-Type header as sent; pass it to parse_feed
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class _Failed(Exception):
    """Ends a fetch with a human reason (and the HTTP status when there was one)."""

    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


def make_client(limits: FetchLimits = FetchLimits(), *, allow_private: bool = False,
                max_connections: int = 8) -> httpx.AsyncClient:
    """A client for fetch_feed: guarded transport, no environment proxies, no auto-redirects."""
    pool = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.AsyncHTTPTransport(limits=pool) if allow_private else GuardedTransport(limits=pool)
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,  # an environment proxy would resolve names itself, past the guard
        timeout=httpx.Timeout(limits.read_timeout),
        follow_redirects=False,
    )


async def fetch_feed(url: str, *, etag: str | None = None, last_modified: str | None = None,
                     client: httpx.AsyncClient | None = None, limits: FetchLimits = FetchLimits(),
                     allow_private: bool = False) -> FetchResult:
    """GET a feed, conditionally when etag/last_modified are given; never raises for bad feeds.

    Every hop's URL is checked (scheme, and unless allow_private, that the host resolves only
    to public addresses). A client from make_client() re-checks at connection time and
    connects to the checked address; a client built elsewhere gets only the per-hop check and
    so stays open to DNS rebinding between that check and its own connect.
    """
    if client is None:
        async with make_client(limits, allow_private=allow_private, max_connections=1) as own:
            return await fetch_feed(url, etag=etag, last_modified=last_modified, client=own,
                                    limits=limits, allow_private=allow_private)
    attempt = _Attempt(client, limits, allow_private, url, etag, last_modified)
    deadline = asyncio.timeout(limits.timeout)
    try:
        async with deadline:
            result = await attempt.run()
    except TimeoutError:
        if not deadline.expired():
            raise
        result = attempt.failed(f"timed out after {limits.timeout:g} s")
    except _Failed as exc:
        result = attempt.failed(exc.reason, exc.http_status)
    except httpx.HTTPError as exc:
        result = attempt.failed(_describe(exc, limits))
    if result.status == "error":
        log.warning("fetching %s failed: %s", url, result.reason)
    else:
        log.info("fetched %s: %s, %s bytes", result.url, result.status, len(result.body))
    return result


class _Attempt:
    """The state of one fetch as it walks redirect hops."""

    def __init__(self, client: httpx.AsyncClient, limits: FetchLimits, allow_private: bool,
                 url: str, etag: str | None, last_modified: str | None) -> None:
        self.client = client
        self.limits = limits
        self.allow_private = allow_private
        self.url = url
        self.etag = etag
        self.last_modified = last_modified
        self.seen: set[str] = set()

    def failed(self, reason: str, http_status: int | None = None) -> FetchResult:
        return FetchResult("error", self.url, http_status=http_status, reason=reason)

    async def run(self) -> FetchResult:
        for _ in range(self.limits.max_redirects + 1):
            await self._check(self.url)
            self.seen.add(self.url)
            async with self.client.stream("GET", self.url, headers=self._headers(),
                                          timeout=httpx.Timeout(self.limits.read_timeout),
                                          follow_redirects=False) as response:
                if response.next_request is not None:  # httpx resolved a redirect's Location
                    self.url = self._redirect_target(response.next_request.url)
                    continue
                return await self._finish(response)
        raise _Failed(f"too many redirects (more than {self.limits.max_redirects})")

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.limits.user_agent, "Accept": ACCEPT,
                   "Accept-Encoding": "gzip, deflate"}  # only what _CappedDecoder undoes
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    async def _check(self, url: str) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise _Failed(f"invalid URL ({exc})") from None
        if not parsed.scheme:
            raise _Failed(f"{url!r} is not a web address; give it with http:// or https://")
        if parsed.scheme not in ("http", "https"):
            raise _Failed(f"unsupported URL scheme {parsed.scheme!r}; use http or https")
        if not parsed.host:
            raise _Failed("the URL has no host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if not 0 < port < 65536:  # httpx passes it on, and the socket layer raises OverflowError
            raise _Failed(f"invalid URL (port {port})")
        if not self.allow_private:
            await checked_addresses(parsed.host, port)

    def _redirect_target(self, location: httpx.URL) -> str:
        target = str(location.copy_with(fragment=None))
        if target in self.seen:
            raise _Failed(f"redirect loop at {target}")
        log.debug("%s redirects to %s", self.url, target)
        return target

    async def _finish(self, response: httpx.Response) -> FetchResult:
        etag = response.headers.get("etag") or None
        modified = response.headers.get("last-modified") or None
        status = response.status_code
        if status == 304:
            return FetchResult("not_modified", self.url, etag=etag or self.etag,
                               last_modified=modified or self.last_modified, http_status=status)
        if not 200 <= status < 300:
            raise _Failed(f"HTTP {status}", status)
        media = _media_type(response.headers.get("content-type"))
        if media and not _maybe_feed_type(media):
            raise _Failed(f"not a feed (got {media})", status)
        body = await _read_capped(response, self.limits.max_bytes)
        if media == "text/html" and _looks_like_html(body):
            raise _Failed("not a feed (got text/html)", status)
        if not body.strip():
            raise _Failed("the response is empty", status)
        return FetchResult("ok", self.url, body=body, content_type=response.headers.get("content-type"),
                           etag=etag, last_modified=modified, http_status=status)


def _media_type(header: str | None) -> str | None:
    media = (header or "").split(";")[0].strip().lower()
    return media or None


def _maybe_feed_type(media: str) -> bool:
    """XML and JSON types, plus the generic types servers often mislabel feeds with."""
    return media.endswith(("xml", "json")) or media in _LENIENT_TYPES


def _looks_like_html(body: bytes) -> bool:
    """A web page rather than a feed served as text/html (which some servers do)."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return True
    return b"<html" in head and not any(tag in head for tag in (b"<rss", b"<feed", b"<rdf"))


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """Stream the body, stopping as soon as it exceeds max_bytes, raw or decoded."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _Failed(_too_big(max_bytes), response.status_code)
    decoder = _CappedDecoder(response.headers.get("content-encoding"), max_bytes)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += decoder.decode(chunk)
    return bytes(body)


class _CappedDecoder:
    """Undo gzip/deflate here, not in httpx: httpx's decoders have no output cap, so a 50 KB
    gzip bomb would expand to 50 MB in a single call before any size check could run."""

    def __init__(self, encoding: str | None, max_bytes: int) -> None:
        codings = [c.strip().lower() for c in (encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in _ZLIB_WBITS):
            raise _Failed(f"unsupported Content-Encoding {encoding!r}")
        self._coding = codings[0] if codings else None
        self._zlib = zlib.decompressobj(_ZLIB_WBITS[self._coding]) if self._coding else None
        self._max = max_bytes
        self._raw = 0
        self._decoded = 0

    def decode(self, chunk: bytes) -> bytes:
        self._raw += len(chunk)
        if self._zlib is None:
            out = chunk
        else:
            try:  # max_length: never produce more than one byte past the cap
                out = self._zlib.decompress(chunk, self._max - self._decoded + 1)
            except zlib.error:
                raise _Failed(f"cannot decompress the response ({self._coding})") from None
        self._decoded += len(out)
        if self._raw > self._max or self._decoded > self._max:
            raise _Failed(_too_big(self._max))
        return out


def _too_big(max_bytes: int) -> str:
    size = f"{max_bytes / MIB:g} MB" if max_bytes >= MIB else f"{max_bytes} bytes"
    return f"the feed is larger than {size}"


def _describe(exc: httpx.HTTPError, limits: FetchLimits) -> str:
    """A short reason for an httpx failure, from the most telling cause in its chain."""
    if isinstance(exc, AddressError):
        return str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect within {limits.read_timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"the server sent nothing for {limits.read_timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        return _connect_reason(exc)
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"invalid HTTP response ({exc})"
    return f"network error ({type(exc).__name__}: {exc})"


def _connect_reason(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error ({getattr(cause, 'verify_message', None) or cause.reason or cause})"
        cause = cause.__cause__ or cause.__context__
    return f"cannot connect ({exc})"


class FeedFetcher:
    """Fetches many feeds through one client: at most `concurrency` at once, and requests to
    the same host started at least `per_host_interval` seconds apart, to be a polite reader."""

    def __init__(self, *, limits: FetchLimits = FetchLimits(), concurrency: int = 8,
                 per_host_interval: float = 1.0, allow_private: bool = False) -> None:
        self._limits = limits
        self._allow_private = allow_private
        self._interval = per_host_interval
        self._client = make_client(limits, allow_private=allow_private, max_connections=concurrency)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._next_start: dict[str, float] = {}

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None) -> FetchResult:
        await self._acquire(_host_key(url))
        try:
            return await fetch_feed(url, etag=etag, last_modified=last_modified, client=self._client,
                                    limits=self._limits, allow_private=self._allow_private)
        finally:
            self._semaphore.release()

    async def _acquire(self, host: str) -> None:
        """Wait for the host's turn, then for a free slot; holding the host lock meanwhile keeps
        the spacing even when slots are scarce, without idle waiters occupying slots."""
        loop = asyncio.get_running_loop()
        async with self._host_locks.setdefault(host, asyncio.Lock()):
            delay = self._next_start.get(host, 0.0) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._semaphore.acquire()
            self._next_start[host] = loop.time() + self._interval

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> FeedFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _host_key(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
