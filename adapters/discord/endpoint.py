"""Pointing discord.py at another Discord-compatible server (a test double, a proxy).

discord.py has no per-client setting for this. REST URLs (webhooks and interaction callbacks
included) are built from the class attribute `discord.http.Route.BASE`, and a plain Client opens
its gateway at the class attribute `DiscordWebSocket.DEFAULT_GATEWAY` without asking the server
(only the sharded client calls GET /gateway/bot). So both are set for the process while the
adapter runs, with the gateway URL the server itself announces, and put back on stop. Without a
custom base URL nothing is touched. One custom endpoint per process at a time.
"""

from __future__ import annotations

import logging

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

log = logging.getLogger(__name__)


class Endpoint:
    """The REST base and gateway URL in force while one adapter runs against a custom server."""

    def __init__(self, api_base_url: str) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self._saved: tuple[str, yarl.URL] | None = None

    def use_rest(self) -> None:
        """Send REST calls to the custom server; call before logging in."""
        if self._saved is None:
            self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        Route.BASE = self.api_base_url
        log.info("Discord REST API at %s", self.api_base_url)

    async def use_announced_gateway(self, http: discord.http.HTTPClient) -> None:
        """Connect to the gateway the server's GET /gateway/bot names; call after logging in."""
        _, url, _ = await http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("Discord gateway at %s", url)

    def restore(self) -> None:
        """Put discord.py's own endpoints back."""
        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None
