"""fetch_feed and FeedFetcher against the misbehaving local server in conftest.py."""

from __future__ import annotations

import asyncio
import ipaddress
import time
import tracemalloc

import httpx
import pytest

from bot.ingest import netguard
from bot.ingest.feeds import FeedError, parse_feed
from bot.ingest.fetch import FeedFetcher, FetchLimits, fetch_feed
from bot.ingest.xmlguard import ENTITY_REASON

from .feedserver import DATA, ETAG, HUGE_BYTES, LAST_MODIFIED, MIB, FeedServer

LOCAL = {"allow_private": True}  # the test server is on loopback, which is private


@pytest.mark.parametrize(("path", "file", "feed_format", "entries"), [
    ("/rss2.xml", "rss2.xml", "rss20", 2),
    ("/rss1.rdf", "rss1.rdf", "rss10", 1),
    ("/atom.xml", "atom.xml", "atom10", 2),
    ("/feed.json", "feed.json", "json11", 2),
    ("/summaries.xml", "summaries.xml", "rss20", 3),
])
async def test_fetches_and_parses_each_format(feed_server: FeedServer, path: str, file: str,
                                              feed_format: str, entries: int) -> None:
    result = await fetch_feed(feed_server.url(path), **LOCAL)
    assert (result.status, result.reason, result.http_status) == ("ok", None, 200)
    assert result.body == (DATA / file).read_bytes()
    assert result.url == feed_server.url(path)
    feed = parse_feed(result.body, url=result.url, content_type=result.content_type)
    assert (feed.format, len(feed.entries)) == (feed_format, entries)


async def test_sends_identifying_headers(feed_server: FeedServer) -> None:
    await fetch_feed(feed_server.url("/rss2.xml"), **LOCAL)
    headers = feed_server.state.headers_for("/rss2.xml")
    assert headers["User-Agent"].startswith("newsdigest/0.1 (+")
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert "application/rss+xml" in headers["Accept"]
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers


async def test_conditional_get_returns_not_modified(feed_server: FeedServer) -> None:
    url = feed_server.url("/conditional.xml")
    first = await fetch_feed(url, **LOCAL)
    assert (first.status, first.etag, first.last_modified) == ("ok", ETAG, LAST_MODIFIED)

    by_etag = await fetch_feed(url, etag=first.etag, **LOCAL)
    by_date = await fetch_feed(url, last_modified=first.last_modified, **LOCAL)
    for result in (by_etag, by_date):
        assert (result.status, result.http_status, result.body) == ("not_modified", 304, b"")
        assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)
    sent = [headers for path, headers, _ in feed_server.state.requests]
    assert sent[1]["If-None-Match"] == ETAG and "If-Modified-Since" not in sent[1]
    assert sent[2]["If-Modified-Since"] == LAST_MODIFIED and "If-None-Match" not in sent[2]


@pytest.mark.parametrize(("path", "file"), [("/gzip.xml", "rss2.xml"), ("/deflate.xml", "atom.xml")])
async def test_decodes_compressed_bodies(feed_server: FeedServer, path: str, file: str) -> None:
    result = await fetch_feed(feed_server.url(path), **LOCAL)
    assert result.status == "ok"
    assert result.body == (DATA / file).read_bytes()


async def test_streamed_50_mb_body_is_cut_off_early(feed_server: FeedServer) -> None:
    tracemalloc.start()
    try:
        result = await fetch_feed(feed_server.url("/huge"), **LOCAL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.status, result.reason) == ("error", "the feed is larger than 5 MB")
    await asyncio.wait_for(feed_server.state.stream_ended.wait(), 5)
    # The server's writes stop soon after 5 MB (plus socket buffers), far short of 50 MB.
    assert feed_server.state.streamed < HUGE_BYTES // 2
    assert peak < 16 * MIB


async def test_declared_50_mb_body_is_refused_before_reading(feed_server: FeedServer) -> None:
    tracemalloc.start()
    try:
        result = await fetch_feed(feed_server.url("/huge-declared"), **LOCAL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.reason == "the feed is larger than 5 MB"
    assert peak < 2 * MIB  # not even the first 5 MB were buffered


async def test_gzip_bomb_is_not_expanded(feed_server: FeedServer) -> None:
    tracemalloc.start()
    try:
        result = await fetch_feed(feed_server.url("/gzip-bomb.xml"), **LOCAL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.reason == "the feed is larger than 5 MB"
    assert peak < 16 * MIB  # httpx's own decoder would have produced all 50 MB at once


async def test_max_bytes_is_configurable(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/rss2.xml"), limits=FetchLimits(max_bytes=1000), **LOCAL)
    assert result.reason == "the feed is larger than 1000 bytes"


async def test_slow_drip_is_cut_off_by_the_total_deadline(feed_server: FeedServer) -> None:
    limits = FetchLimits(timeout=2, read_timeout=1)  # a byte every 0.5 s never trips read_timeout
    started = time.monotonic()
    result = await fetch_feed(feed_server.url("/drip"), limits=limits, **LOCAL)
    elapsed = time.monotonic() - started
    assert (result.status, result.reason) == ("error", "timed out after 2 s")
    assert 1.9 <= elapsed < 3


async def test_silent_server_trips_the_read_timeout(feed_server: FeedServer) -> None:
    limits = FetchLimits(timeout=5, read_timeout=0.3)
    started = time.monotonic()
    result = await fetch_feed(feed_server.url("/hang"), limits=limits, **LOCAL)
    assert result.reason == "the server sent nothing for 0.3 s"
    assert time.monotonic() - started < 2


async def test_redirect_loop_is_reported(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/loop/a"), **LOCAL)
    assert result.reason == f"redirect loop at {feed_server.url('/loop/a')}"
    assert feed_server.state.paths() == ["/loop/a", "/loop/b"]


async def test_redirect_hops_are_limited(feed_server: FeedServer) -> None:
    ok = await fetch_feed(feed_server.url("/hops/5"), **LOCAL)
    assert (ok.status, ok.url) == ("ok", feed_server.url("/hops/0"))
    too_far = await fetch_feed(feed_server.url("/hops/6"), **LOCAL)
    assert (too_far.status, too_far.reason) == ("error", "too many redirects (more than 5)")
    assert too_far.url == feed_server.url("/hops/0")  # the hop it would have needed next


async def test_relative_redirect_is_resolved(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/relative/start"), **LOCAL)
    assert (result.status, result.url) == ("ok", feed_server.url("/atom.xml"))


@pytest.mark.parametrize("code", [404, 410, 500, 503, 302])  # 302 without a Location
async def test_http_errors_become_reasons(feed_server: FeedServer, code: int) -> None:
    result = await fetch_feed(feed_server.url(f"/status/{code}"), **LOCAL)
    assert (result.status, result.reason, result.http_status) == ("error", f"HTTP {code}", code)


async def test_html_page_is_not_a_feed(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/page.html"), **LOCAL)
    assert (result.status, result.reason) == ("error", "not a feed (got text/html)")


@pytest.mark.parametrize("path", ["/rss-as-html", "/rss-as-text", "/rss-as-binary"])
async def test_mislabelled_feeds_are_accepted(feed_server: FeedServer, path: str) -> None:
    result = await fetch_feed(feed_server.url(path), **LOCAL)
    assert result.status == "ok"
    feed = parse_feed(result.body, url=result.url, content_type=result.content_type)
    assert feed.title == "Lantern Street Notes"


async def test_non_feed_media_type_is_refused(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/image.png"), **LOCAL)
    assert result.reason == "not a feed (got image/png)"


async def test_empty_body_is_an_error(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/empty"), **LOCAL)
    assert result.reason == "the response is empty"


async def test_invalid_xml_fetches_but_does_not_parse(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/invalid.xml"), **LOCAL)
    assert result.status == "ok"
    with pytest.raises(FeedError, match=r"^invalid XML: mismatched tag \(line 8, column 4\)$"):
        parse_feed(result.body, url=result.url, content_type=result.content_type)


async def test_billion_laughs_is_rejected_quickly(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/laughs.xml"), **LOCAL)
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        parse_feed(result.body, url=result.url, content_type=result.content_type)
    assert caught.value.reason == ENTITY_REASON
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://127.0.0.1/feed.xml", "unsupported URL scheme 'ftp'; use http or https"),
    ("notaurl", "'notaurl' is not a web address; give it with http:// or https://"),  # was: scheme 'none
    ("file:///etc/passwd", "unsupported URL scheme 'file'; use http or https"),
    ("javascript:alert(1)", "unsupported URL scheme 'javascript'; use http or https"),
    ("http://[::1/feed", "invalid URL (Invalid port: ':1')"),
    ("http:///feed.xml", "the URL has no host"),
    ("http://127.0.0.1:99999/feed.xml", "invalid URL (port 99999)"),
])
async def test_bad_urls_are_refused(url: str, reason: str) -> None:
    result = await fetch_feed(url)
    assert (result.status, result.reason) == ("error", reason)


@pytest.mark.parametrize(("target", "reason"), [
    ("file:///etc/passwd", "unsupported URL scheme 'file'; use http or https"),
    ("http://[::1", "invalid HTTP response (Invalid URL in location header: Invalid port: ':1'.)"),
])
async def test_bad_redirect_targets_are_refused(feed_server: FeedServer, target: str, reason: str) -> None:
    result = await fetch_feed(feed_server.url(f"/redirect?to={target}"), **LOCAL)
    assert result.reason == reason


async def test_connection_refused(unused_port: int) -> None:
    result = await fetch_feed(f"http://127.0.0.1:{unused_port}/feed.xml", **LOCAL)
    assert result.reason == "connection refused"


async def test_unresolvable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_answer(host: str, port: int) -> list[netguard.IPAddress]:
        raise netguard.UnresolvableHostError(host)

    monkeypatch.setattr(netguard, "resolve", no_answer)
    result = await fetch_feed("https://feeds.nowhere.invalid/rss")
    assert result.reason == "cannot resolve host feeds.nowhere.invalid"


async def test_loopback_server_is_private_by_default(feed_server: FeedServer) -> None:
    result = await fetch_feed(feed_server.url("/rss2.xml"))
    assert (result.status, result.reason) == ("error", "127.0.0.1 resolves to a private address")
    assert feed_server.state.requests == []


@pytest.mark.parametrize("target", [
    "http://127.0.0.2:{port}/rss2.xml",
    "http://[::1]:{port}/rss2.xml",
    "http://[::ffff:127.0.0.2]:{port}/rss2.xml",
    "http://0.0.0.0:{port}/rss2.xml",
])
async def test_redirect_to_a_private_address_is_refused(
        feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    # Let this one loopback address pass as "public" so the first hop reaches the test server.
    server = ipaddress.ip_address("127.0.0.1")
    real = netguard.is_public_address
    monkeypatch.setattr(netguard, "is_public_address", lambda ip: ip == server or real(ip))
    target = target.format(port=feed_server.port)

    result = await fetch_feed(feed_server.url(f"/redirect?to={target}"))
    assert result.status == "error"
    assert result.reason is not None and result.reason.endswith("resolves to a private address")
    failed_at, wanted = httpx.URL(result.url), httpx.URL(target)  # IPv6 literals get rewritten
    assert ipaddress.ip_address(failed_at.host) == ipaddress.ip_address(wanted.host)
    assert (failed_at.port, failed_at.path) == (wanted.port, wanted.path)
    assert feed_server.state.paths() == ["/redirect"]


async def test_fetcher_finishes_others_while_one_hangs(feed_server: FeedServer) -> None:
    paths = ["/rss2.xml", "/hang", "/atom.xml", "/feed.json", "/rss1.rdf"]
    started = time.monotonic()
    done_at: dict[str, float] = {}

    async def fetch(fetcher: FeedFetcher, path: str) -> str:
        result = await fetcher.fetch(feed_server.url(path))
        done_at[path] = time.monotonic() - started
        return result.reason or result.status

    async with FeedFetcher(limits=FetchLimits(timeout=1.5), per_host_interval=0.02,
                           allow_private=True) as fetcher:
        outcomes = await asyncio.gather(*(fetch(fetcher, path) for path in paths))

    assert outcomes == ["ok", "timed out after 1.5 s", "ok", "ok", "ok"]
    assert max(t for path, t in done_at.items() if path != "/hang") < 1.0
    assert done_at["/hang"] >= 1.5


async def test_fetcher_spaces_requests_to_one_host(feed_server: FeedServer) -> None:
    async with FeedFetcher(per_host_interval=0.2, allow_private=True) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(feed_server.url(p))
                                         for p in ["/rss2.xml", "/atom.xml", "/rss1.rdf"]))
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    times = sorted(t for _, _, t in feed_server.state.requests)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(gaps) == 2 and min(gaps) >= 0.19


async def test_fetcher_limits_concurrency(feed_server: FeedServer) -> None:
    limits = FetchLimits(timeout=0.4)
    async with FeedFetcher(limits=limits, concurrency=2, per_host_interval=0,
                           allow_private=True) as fetcher:
        started = time.monotonic()
        results = await asyncio.gather(*(fetcher.fetch(feed_server.url("/hang")) for _ in range(4)))
        elapsed = time.monotonic() - started
    assert {r.reason for r in results} == {"timed out after 0.4 s"}
    assert 0.8 <= elapsed < 1.4  # two rounds of two: not one round of four, nor four of one
