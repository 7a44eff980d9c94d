"""How Discord places and people map onto the core's ChatRef and UserRef.

Convention: a channel (text, announcement, forum or DM) is `ChatRef("discord", channel_id)`; a
thread, including a forum post, is `ChatRef("discord", parent_channel_id, thread_id)`, so it
shares its channel's scope (chat-owned sources) the way a Telegram topic shares its group's.
"""

from __future__ import annotations

import re

import discord

from bot.model import ChatRef, UserRef

PLATFORM = "discord"

_CHANNEL_REF = re.compile(r"^(?:<#(\d+)>|#?(\d+))$")


def chat_of(channel: discord.abc.Snowflake) -> ChatRef:
    """The ChatRef for a channel or thread object discord.py gave us."""
    if isinstance(channel, (discord.Thread, discord.app_commands.AppCommandThread)):
        return ChatRef(PLATFORM, str(channel.parent_id), str(channel.id))
    return ChatRef(PLATFORM, str(channel.id))


def interaction_chat(interaction: discord.Interaction) -> ChatRef:
    """Where a slash command was used."""
    if interaction.channel is not None:
        return chat_of(interaction.channel)
    return ChatRef(PLATFORM, str(interaction.channel_id))


def user_of(user: discord.abc.User) -> UserRef:
    return UserRef(PLATFORM, str(user.id), user.display_name)


def channel_mention(channel_id: int) -> str:
    """The form a channel option reaches the core in, and resolve_chat reads back."""
    return f"<#{channel_id}>"


def parse_channel_ref(ref: str) -> int | None:
    """The channel id in '<#123>', '#123' or '123'; None for anything else."""
    match = _CHANNEL_REF.match(ref.strip())
    return int(match.group(1) or match.group(2)) if match else None


def target_id(chat: ChatRef) -> int:
    """The channel id messages for `chat` are posted to: the thread's when there is one."""
    return int(chat.thread_id or chat.chat_id)
