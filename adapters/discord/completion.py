"""Autocomplete for the option kinds the core asks for: outlet names and time zones."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable

import discord
from discord import app_commands

from adapters.discord.refs import interaction_chat
from bot.core import Core

MAX_CHOICES = 25  # Discord shows at most 25 suggestions
MAX_CHOICE_LENGTH = 100  # a choice's name and value

Completer = Callable[[discord.Interaction, str], Awaitable[list[app_commands.Choice[str]]]]

_SEGMENT = re.compile(r"[/\s_-]+")


@functools.cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def suggest(candidates: Iterable[str], typed: str) -> list[app_commands.Choice[str]]:
    """Up to 25 candidates starting with what was typed; then those with a word starting so."""
    typed = typed.strip().casefold()
    first: list[str] = []
    then: list[str] = []
    for candidate in candidates:
        if len(candidate) > MAX_CHOICE_LENGTH:
            continue  # the value must come back unchanged, so it cannot be shortened
        folded = candidate.casefold()
        if folded.startswith(typed):
            first.append(candidate)
            if len(first) == MAX_CHOICES:
                break
        elif len(then) < MAX_CHOICES and any(word.startswith(typed) for word in _SEGMENT.split(folded)):
            then.append(candidate)
    return [app_commands.Choice(name=c, value=c) for c in (first + then)[:MAX_CHOICES]]


def completer(core: Core, kind: str) -> Completer:
    """The autocomplete callback for a Param.autocomplete kind."""
    if kind == "sources":
        async def sources(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            found = await core.repo.list_sources(interaction_chat(interaction).scope)
            return suggest((source.name for source in found), current)
        return sources
    if kind == "timezones":
        async def timezones(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return suggest(_timezones(), current)
        return timezones
    raise ValueError(f"no Discord autocomplete for {kind!r}")
