"""Answering slash commands: run the core, meet Discord's 3-second deadline, reply in order.

A quick reply is sent as the interaction response itself, so an ephemeral reply stays private.
When the core is slower than `answer_within` seconds the interaction is deferred (a public
"thinking..." message, which Discord keeps public for the first follow-up); the first message then
replaces it, or, for an ephemeral reply, it is deleted and the reply follows privately.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands

from adapters.discord.access import InteractionAccess
from adapters.discord.messages import edit_kwargs, rendered, send_kwargs
from adapters.discord.refs import interaction_chat, user_of
from bot.commands import CommandSpec, Request
from bot.core import Core
from bot.render.discord import DiscordMessage
from bot.reply import Reply

log = logging.getLogger(__name__)

DEFAULT_ANSWER_WITHIN = 2.0  # seconds before deferring; Discord allows 3 for the first answer
APOLOGY = Reply.notice("Sorry, that failed on our side. It has been logged; please try again later.",
                       ephemeral=True)


class Answer:
    """The messages one interaction has been answered with so far, and how to send the next."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.thinking = False  # deferred, and the placeholder not yet replaced

    @classmethod
    def of(cls, interaction: discord.Interaction) -> Answer:
        """The one Answer per interaction, shared by the command and the error handler."""
        return interaction.extras.setdefault("newsdigest.answer", cls(interaction))

    async def defer(self) -> None:
        await self.interaction.response.defer(thinking=True)
        self.thinking = True

    async def send(self, reply: Reply) -> None:
        for message in rendered(reply):
            await self._send_one(message, reply)

    async def _send_one(self, message: DiscordMessage, reply: Reply) -> None:
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(**send_kwargs(message, reply), ephemeral=reply.ephemeral)
        elif self.thinking and not reply.ephemeral:
            self.thinking = False
            await self.interaction.edit_original_response(**edit_kwargs(message))
        else:
            if self.thinking:
                self.thinking = False
                await self.interaction.delete_original_response()
            await self.interaction.followup.send(**send_kwargs(message, reply), ephemeral=reply.ephemeral)


class CommandAnswerer:
    """Turns an invoked slash command into a core request and its reply into messages."""

    def __init__(self, core: Core, answer_within: float = DEFAULT_ANSWER_WITHIN) -> None:
        self.core = core
        self.answer_within = answer_within

    async def run(self, interaction: discord.Interaction, spec: CommandSpec, args: dict[str, str]) -> None:
        request = Request(interaction_chat(interaction), user_of(interaction.user),
                          InteractionAccess(self.core, interaction))
        answer = Answer.of(interaction)
        work = asyncio.create_task(self.core.handle(request, spec.name, args))
        done, _ = await asyncio.wait({work}, timeout=self.answer_within)
        if not done:
            await answer.defer()
        await answer.send(await work)

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Log with context and apologise privately; the bot carries on with the next interaction."""
        name = interaction.command.qualified_name if interaction.command else "?"
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error("/%s failed in %s for %s", name, interaction_chat(interaction).scope,
                  user_of(interaction.user).key, exc_info=cause)
        try:
            await Answer.of(interaction).send(APOLOGY)
        except discord.HTTPException as exc:  # the interaction may have expired meanwhile
            log.warning("could not apologise for /%s: %s", name, exc)
