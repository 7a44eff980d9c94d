"""Keep feed fetching away from the bot's own network: loopback, LAN, link-local, metadata IPs.

Anyone who may add a source chooses the URL the bot fetches, so a URL must not become a way to
probe the host or the private network behind it (SSRF). The rule is applied twice: once per
redirect hop before a request is sent (for a clear reason and for clients built elsewhere), and
again at connection time by `GuardedTransport`, which resolves the host itself, rejects the
name if ANY answer is non-public, and connects to the exact address it validated. A name cannot
therefore resolve to a public address for the check and to a private one for the connection
(DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable

import httpcore
import httpx

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressError(httpx.ConnectError):
    """A host the fetcher will not connect to; `str()` is the human reason.

    A subclass of httpx.ConnectError so that callers catching httpx errors see it as one, and
    so that httpx passes it through unchanged from inside its transport.
    """


class BlockedAddressError(AddressError):
    def __init__(self, host: str, address: IPAddress) -> None:
        shown = host if host == str(address) else f"{host} ({address})"
        super().__init__(f"{shown} resolves to a private address")
        self.address = address


class UnresolvableHostError(AddressError):
    def __init__(self, host: str) -> None:
        super().__init__(f"cannot resolve host {host}")


def is_public_address(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses, looking inside IPv6 wrappers of IPv4.

    NAT64 (64:ff9b::/96) counts as reserved, so on an IPv6-only host behind DNS64 the bot
    cannot reach IPv4-only feeds without allow_private; blocking is the safe side of that.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the socket really talks to the IPv4 address
            return is_public_address(address.ipv4_mapped)
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
    return address.is_global and not (
        address.is_loopback or address.is_private or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
    )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for host (an IP literal resolves to itself)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHostError(host) from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHostError(host)
    return addresses


async def checked_addresses(host: str, port: int) -> list[IPAddress]:
    """Resolve host and refuse it if any answer is non-public, so no answer can be picked later."""
    addresses = await resolve(host, port)
    for address in addresses:
        if not is_public_address(address):
            raise BlockedAddressError(host, address)
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that connects only to addresses `checked_addresses` approved."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in await checked_addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout,
                    local_address=local_address, socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                log.debug("connecting to %s (%s) failed: %s", host, address, exc)
                failure = exc
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every new connection goes through the address rule.

    httpx 0.28 has no public hook for the network backend (only httpcore.AsyncConnectionPool
    takes one), so this replaces the pool the parent built with one using the guarded backend.
    That relies on the private `_pool` attribute; tests/ingest exercise the guard end to end so
    an httpx upgrade that breaks it fails loudly. TLS still verifies the certificate against the
    host name (httpcore takes SNI from the URL, not from the address connected to). Proxies are
    not supported here: with a proxy the proxy would resolve the name, defeating the check.
    """

    def __init__(self, *, limits: httpx.Limits = httpx.Limits(), verify: bool = True) -> None:
        ssl_context = httpx.create_ssl_context(verify=verify)  # loading CA certificates is slow: once
        super().__init__(limits=limits, verify=ssl_context)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(),
        )
