"""The Discord adapter: the core's commands as slash commands, its replies and digests as messages.

Composed around a Core, never a subclass of it: a discord.py Client and CommandTree receive
interactions, CommandAnswerer turns them into core requests, ChannelPoster is the Messenger side.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from adapters.discord.commands import build_commands
from adapters.discord.delivery import DEFAULT_ATTEMPTS, DEFAULT_RETRY_DELAY, ChannelPoster
from adapters.discord.endpoint import Endpoint
from adapters.discord.interactions import DEFAULT_ANSWER_WITHIN, CommandAnswerer
from adapters.discord.messages import NO_MENTIONS
from adapters.discord.refs import PLATFORM
from bot.core import Core
from bot.model import ChatRef
from bot.outbox import SendResult
from bot.pacing import RateBudget
from bot.reply import Reply

log = logging.getLogger(__name__)

REQUESTS_PER_SECOND = 45.0  # the default budget for posting: a margin under Discord's global 50/s
MAX_RATELIMIT_WAIT = 60.0  # seconds discord.py may sleep on one 429 before giving up (minimum 30)


class DiscordAdapter:
    """Runs the bot on Discord. `start()` returns once connected and commands are synced."""

    platform = PLATFORM

    def __init__(self, core: Core, token: str, *, api_base_url: str | None = None,
                 sync_guild: int | None = None, budget: RateBudget | None = None,
                 send_attempts: int = DEFAULT_ATTEMPTS, retry_delay: float = DEFAULT_RETRY_DELAY,
                 answer_within: float = DEFAULT_ANSWER_WITHIN, guild_ready_timeout: float = 2.0) -> None:
        """
        api_base_url: another Discord-compatible REST base ("http://127.0.0.1:8080/api/v10"); the
            gateway is then the one its GET /gateway/bot announces.
        sync_guild: register commands in this one guild only (instant, for trying things out)
            instead of globally.
        budget: the pace for posting to channels; Discord allows about 50 requests/s per bot.
        guild_ready_timeout: how long discord.py waits for more GUILD_CREATEs before it is ready.
        """
        self.core = core
        self._token = token
        self.sync_guild = sync_guild
        self._endpoint = Endpoint(api_base_url) if api_base_url else None
        self.client = discord.Client(
            intents=discord.Intents(guilds=True),  # no privileged intents
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        self.tree = app_commands.CommandTree(self.client)
        self.answerer = CommandAnswerer(core, answer_within)
        self.tree.error(self.answerer.on_error)
        for command in build_commands(core, self.answerer.run):
            self.tree.add_command(command)
        self.poster = ChannelPoster(self.client, budget or RateBudget(REQUESTS_PER_SECOND), send_attempts, retry_delay)
        self._connection: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Whether the gateway connection is up (the status file reports it)."""
        ws = self.client.ws
        return self.client.is_ready() and not self.client.is_closed() and ws is not None and ws.open

    async def start(self) -> None:
        """Log in, connect to the gateway, wait until ready, then sync the slash commands."""
        if self._endpoint:
            self._endpoint.use_rest()
        try:
            await self.client.login(self._token)
            if self._endpoint:
                await self._endpoint.use_announced_gateway(self.client.http)
            self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
            ready = asyncio.create_task(self.client.wait_until_ready())
            await asyncio.wait({self._connection, ready}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                self._connection.result()  # raises what ended the connection
                raise ConnectionError("the Discord gateway closed before the bot was ready")
            await self._sync_commands()
        except BaseException:
            await self.stop()
            raise
        log.info("Discord: logged in as %s (%s) in %d guild(s)", self.client.user,
                 self.client.user.id if self.client.user else "?", len(self.client.guilds))

    async def stop(self) -> None:
        """Disconnect and close the HTTP session; safe to call twice."""
        await self.client.close()
        if self._connection is not None:
            await asyncio.gather(self._connection, return_exceptions=True)
            self._connection = None
        if self._endpoint:
            self._endpoint.restore()

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        """Messenger: post `reply` to a channel, a thread or (as a new post) a forum."""
        if not self.client.is_ready():
            raise RuntimeError("DiscordAdapter.send() before start()")
        return await self.poster.send(chat, reply, sent)

    async def _sync_commands(self) -> None:
        guild = discord.Object(self.sync_guild) if self.sync_guild else None
        if guild:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("Discord: %d slash command(s) synced %s", len(synced),
                 f"to guild {self.sync_guild}" if guild else "globally")
