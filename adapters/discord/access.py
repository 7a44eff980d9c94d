"""ChatAccess for one slash command: who may administer here, and which channels they may name.

Answers come from the permissions Discord resolved for the interaction and from the guild cache
(roles, channel overwrites, the bot's own member) that GUILD_CREATE filled; a channel missing
from the cache (an archived thread) is fetched once.
"""

from __future__ import annotations

import discord

from adapters.discord.refs import chat_of, parse_channel_ref, user_of
from bot.commands import Refused
from bot.core import Core
from bot.model import ChatRef

Place = discord.abc.GuildChannel | discord.Thread


def can_manage(permissions: discord.Permissions) -> bool:
    """Manage Server or Manage Channels; an administrator-only value ('8') has neither bit set."""
    return permissions.administrator or permissions.manage_guild or permissions.manage_channels


def missing_for_bot(place: Place, permissions: discord.Permissions) -> list[str]:
    """What the bot lacks to post a digest in `place`, in the words Discord's settings use."""
    needed = [("View Channel", permissions.view_channel)]
    if isinstance(place, discord.Thread):
        needed.append(("Send Messages in Threads", permissions.send_messages_in_threads))
    elif isinstance(place, discord.ForumChannel):
        needed += [("Send Messages (create posts)", permissions.send_messages),
                   ("Send Messages in Threads", permissions.send_messages_in_threads)]
    else:
        needed.append(("Send Messages", permissions.send_messages))
    needed.append(("Embed Links", permissions.embed_links))  # Discord denies it with Send Messages
    return [name for name, granted in needed if not granted]


class InteractionAccess:
    """The ChatAccess the core asks while running one interaction's command."""

    def __init__(self, core: Core, interaction: discord.Interaction) -> None:
        self.core = core
        self.interaction = interaction

    async def is_chat_admin(self) -> bool:
        if self.interaction.guild_id is None:
            return True  # a DM with the bot: the user is its only member
        return can_manage(self.interaction.permissions)

    async def resolve_chat(self, ref: str, to_post: bool = True) -> ChatRef:
        channel_id = parse_channel_ref(ref)
        if channel_id is None:
            raise Refused("Name a channel with the channel option (or as #channel).")
        guild = self.interaction.guild
        if guild is None:
            raise Refused("Name a channel from inside its server: use the command there.")
        place = await self._find(guild, channel_id)
        if place is None:
            raise Refused("I can't find that channel in this server, or I can't see it.")
        label = f"#{place.name}"
        if not self.core.is_operator(user_of(self.interaction.user)):
            member = self.interaction.user
            if not isinstance(member, discord.Member) or not can_manage(place.permissions_for(member)):
                raise Refused(f"You need Manage Server or Manage Channels in {label} to do that.")
        if to_post and (missing := missing_for_bot(place, place.permissions_for(guild.me))):
            raise Refused(f"I need {', '.join(missing)} in {label}. Ask a server admin to grant "
                          f"{'it' if len(missing) == 1 else 'them'}.")
        return chat_of(place)

    async def _find(self, guild: discord.Guild, channel_id: int) -> Place | None:
        place = guild.get_channel_or_thread(channel_id)
        if place is not None:
            return place
        try:
            fetched = await self.interaction.client.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            return None
        if isinstance(fetched, (discord.abc.GuildChannel, discord.Thread)) and fetched.guild.id == guild.id:
            return fetched
        return None
