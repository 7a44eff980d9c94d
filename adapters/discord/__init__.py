"""Discord: the core's commands as slash commands; replies and digests as messages and embeds."""

from adapters.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
