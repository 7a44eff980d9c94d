"""Slash commands built from the core's CommandSpecs, so a new core command needs no Discord code.

discord.py reads a command's options from its callback's signature. Each spec gets one generic
callback whose `__signature__` lists an annotated parameter per Param (`option_0`, `option_1`,
...), renamed to the Param's name and described with the public decorators. Every option value
reaches the core as a string, the way Core.handle takes it.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from adapters.discord.completion import completer
from adapters.discord.refs import channel_mention
from bot import limits
from bot.commands import CommandSpec, Param, Permission
from bot.core import Core

CommandRunner = Callable[[discord.Interaction, CommandSpec, dict[str, str]], Awaitable[None]]

MAX_CHOICES = 25

# Where a digest can go: text and announcement channels, their threads, forums (a post each time).
TARGET_CHANNEL_TYPES = [
    discord.ChannelType.text,
    discord.ChannelType.news,
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
    discord.ChannelType.forum,
]

_INVALID_NAME = re.compile(r"[^a-z0-9_-]+")


class ChannelOption(app_commands.Transformer):
    """A channel or thread option that reaches the core as '<#id>', the form resolve_chat reads."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return TARGET_CHANNEL_TYPES

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> str:
        return channel_mention(value.id)


_ANNOTATIONS: dict[str, Any] = {
    "int": int,
    "word": str,
    "text": str,
    "chat": app_commands.Transform[str, ChannelOption],
}


def discord_name(text: str) -> str:
    """A valid command or option name: 1-32 lowercase letters, digits, '-' or '_'."""
    return _INVALID_NAME.sub("_", text.lower()).strip("_")[: limits.DISCORD_COMMAND_NAME] or "option"


def description(text: str, fallback: str) -> str:
    """1-100 characters on one line, as Discord requires of every description."""
    text = " ".join(text.split()) or fallback
    limit = limits.DISCORD_COMMAND_DESCRIPTION
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _option_names(params: tuple[Param, ...]) -> list[str]:
    """Discord names for the params, made unique if sanitising made two alike."""
    names: list[str] = []
    for param in params:
        name = base = discord_name(param.name)
        for n in itertools.count(2):
            if name not in names:
                break
            suffix = f"_{n}"
            name = base[: limits.DISCORD_COMMAND_NAME - len(suffix)] + suffix
        names.append(name)
    return names


def _choices(param: Param) -> list[app_commands.Choice[Any]]:
    cast = int if param.kind == "int" else str
    return [app_commands.Choice(name=description(c, c), value=cast(c)) for c in param.choices[:MAX_CHOICES]]


def build_command(core: Core, spec: CommandSpec, run: CommandRunner) -> app_commands.Command[Any, ..., None]:
    """One slash command for `spec`; invoking it calls `run` with the core's argument names."""
    keys = [f"option_{i}" for i in range(len(spec.params))]
    by_key = dict(zip(keys, spec.params))

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        args = {by_key[key].name: str(value) for key, value in values.items() if value is not None}
        await run(interaction, spec, args)

    callback.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction),
        *(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=_ANNOTATIONS[param.kind],
                            default=inspect.Parameter.empty if param.required else None)
          for key, param in by_key.items()),
    ])
    if spec.params:
        app_commands.rename(**dict(zip(keys, _option_names(spec.params))))(callback)
        app_commands.describe(**{k: description(p.description, p.name) for k, p in by_key.items()})(callback)
    if choices := {k: _choices(p) for k, p in by_key.items() if p.choices}:
        app_commands.choices(**choices)(callback)
    if completions := {k: completer(core, p.autocomplete) for k, p in by_key.items()
                       if p.autocomplete and not p.choices}:
        app_commands.autocomplete(**completions)(callback)
    if spec.permission is Permission.CHAT_ADMIN:
        app_commands.default_permissions(manage_guild=True)(callback)  # a UI hint; the core checks
    elif spec.permission is Permission.OPERATOR:
        app_commands.default_permissions()(callback)  # shown to server administrators only
    return app_commands.Command(name=discord_name(spec.name), description=description(spec.summary, spec.name),
                                callback=callback)


def build_commands(core: Core, run: CommandRunner) -> list[app_commands.Command[Any, ..., None]]:
    return [build_command(core, spec, run) for spec in core.commands]
