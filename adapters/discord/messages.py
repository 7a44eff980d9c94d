"""Rendered messages as discord.py keyword arguments, with every mention switched off.

Summaries are other people's text: `AllowedMentions.none()` on everything the bot posts means
no title can ping @everyone, a role or a user, whatever the renderer's escaping missed.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.render.discord import DiscordMessage, render_discord
from bot.reply import Reply

NO_MENTIONS = discord.AllowedMentions.none()


def rendered(reply: Reply) -> list[DiscordMessage]:
    """The reply's messages; a reply with nothing to show still answers with one line."""
    return render_discord(reply) or [DiscordMessage(content="Done.")]


def send_kwargs(message: DiscordMessage, reply: Reply) -> dict[str, Any]:
    """Arguments for Messageable.send, Webhook.send and InteractionResponse.send_message."""
    return {
        "content": message.content or None,
        "embeds": [discord.Embed.from_dict(embed) for embed in message.embeds],
        "allowed_mentions": NO_MENTIONS,
        "silent": reply.silent,
    }


def edit_kwargs(message: DiscordMessage) -> dict[str, Any]:
    """Arguments for replacing a deferred 'thinking' response with the first message."""
    return {
        "content": message.content or None,
        "embeds": [discord.Embed.from_dict(embed) for embed in message.embeds],
        "allowed_mentions": NO_MENTIONS,
    }
