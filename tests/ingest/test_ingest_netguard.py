"""The address rule, and that GuardedTransport enforces it at connection time (DNS rebinding)."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from bot.ingest import netguard
from bot.ingest.fetch import fetch_feed, make_client
from bot.ingest.netguard import BlockedAddressError, GuardedTransport, is_public_address

from .feedserver import FeedServer

PUBLIC = ipaddress.ip_address("93.184.216.34")


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
    "192.0.2.10", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
    "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    "64:ff9b::a00:1", "64:ff9b::808:808",  # NAT64 prefix: reserved, whatever it wraps
    "2001:db8::1",
])
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
    "2002:808:808::1",  # 6to4 wrapping 8.8.8.8
])
def test_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


async def test_a_name_with_any_private_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    async def mixed(host: str, port: int) -> list[netguard.IPAddress]:
        return [PUBLIC, ipaddress.ip_address("10.1.2.3")]

    monkeypatch.setattr(netguard, "resolve", mixed)
    with pytest.raises(BlockedAddressError, match=r"^split\.example \(10\.1\.2\.3\) resolves to a private"):
        await netguard.checked_addresses("split.example", 443)


async def test_ip_literals_resolve_to_themselves() -> None:
    assert await netguard.resolve("127.0.0.1", 80) == [ipaddress.ip_address("127.0.0.1")]
    assert await netguard.resolve("::1", 80) == [ipaddress.ip_address("::1")]


async def test_guarded_transport_refuses_to_connect(feed_server: FeedServer) -> None:
    async with httpx.AsyncClient(transport=GuardedTransport()) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(feed_server.url("/rss2.xml"))
    assert isinstance(caught.value, BlockedAddressError)
    assert feed_server.state.requests == []


def _rebinding_resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer the first lookup with a public address and later ones truthfully (loopback)."""
    real = netguard.resolve
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[netguard.IPAddress]:
        lookups.append(host)
        return [PUBLIC] if len(lookups) == 1 else await real(host, port)

    monkeypatch.setattr(netguard, "resolve", rebinding)
    return lookups


async def test_dns_rebinding_is_caught_at_connection_time(
        feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = _rebinding_resolver(monkeypatch)
    result = await fetch_feed(f"http://localhost:{feed_server.port}/rss2.xml")
    assert lookups == ["localhost", "localhost"]  # the per-hop check, then the transport's
    assert result.status == "error"
    assert result.reason is not None and result.reason.startswith("localhost (")
    assert result.reason.endswith(") resolves to a private address")
    assert feed_server.state.requests == []


async def test_unguarded_client_shows_why_the_transport_guard_exists(
        feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same trick against a client without GuardedTransport reaches the server: the
    per-hop check alone cannot stop rebinding, which is the residual risk of passing in a
    client that was not built by make_client(allow_private=False)."""
    _rebinding_resolver(monkeypatch)
    async with make_client(allow_private=True) as unguarded:
        result = await fetch_feed(f"http://127.0.0.1:{feed_server.port}/rss2.xml", client=unguarded)
    assert result.status == "ok"
    assert feed_server.state.paths() == ["/rss2.xml"]
