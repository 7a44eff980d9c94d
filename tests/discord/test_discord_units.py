"""The adapter's small pure parts: names, descriptions, option building, refs, permissions."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from adapters.discord.access import can_manage
from adapters.discord.commands import build_command, description, discord_name
from adapters.discord.refs import parse_channel_ref
from bot.commands import Args, CommandSpec, Context, Param, Permission
from bot.reply import Reply


async def nothing(ctx: Context, args: Args) -> Reply:
    return Reply.notice("")


class NoRepo:
    commands = ()
    repo = None


async def published(spec: CommandSpec) -> dict:
    async def run(interaction: discord.Interaction, spec: CommandSpec, args: dict[str, str]) -> None: ...

    client = discord.Client(intents=discord.Intents(guilds=True))
    tree = app_commands.CommandTree(client)
    tree.add_command(build_command(NoRepo(), spec, run))  # type: ignore[arg-type]
    [command] = tree.get_commands()
    return command.to_dict(tree)


@pytest.mark.parametrize("text, name", [("Per Source", "per_source"), ("days/week", "days_week"),
                                         ("x" * 40, "x" * 32), ("--", "--"), ("!!", "option")])
def test_names_are_valid_discord_names(text: str, name: str) -> None:
    assert discord_name(text) == name


def test_descriptions_fit_one_line_of_100() -> None:
    assert description("  two\nlines ", "fallback") == "two lines"
    assert description("", "fallback") == "fallback"
    assert len(description("y" * 150, "f")) == 100 and description("y" * 150, "f").endswith("…")


async def test_options_are_typed_renamed_and_choices_win_over_autocomplete() -> None:
    spec = CommandSpec("Set Bias", "Test", (
        Param("Outlet Name", "Which outlet", kind="text", autocomplete="sources"),
        Param("rating", "", choices=("left", "lean left", "center"), autocomplete="sources"),
        Param("items", "How many", required=False, kind="int", choices=("5", "10")),
        Param("outlet name", "Same name once sanitised", required=False),
    ), nothing, permission=Permission.OPERATOR)
    command = await published(spec)
    assert command["name"] == "set_bias"
    assert command["default_member_permissions"] == 0
    outlet, rating, items, twin = command["options"]
    assert (outlet["name"], outlet["type"], outlet["autocomplete"]) == ("outlet_name", 3, True)
    assert (rating["name"], rating["description"], "autocomplete" in rating) == ("rating", "rating", False)
    assert rating["choices"] == [{"name": c, "value": c} for c in ("left", "lean left", "center")]
    assert (items["type"], items["choices"][0]) == (4, {"name": "5", "value": 5})
    assert twin["name"] == "outlet_name_2"


@pytest.mark.parametrize("ref, channel_id", [("<#123>", 123), ("#123", 123), (" 123 ", 123), ("@news", None),
                                              ("<@123>", None), ("#general", None)])
def test_channel_refs(ref: str, channel_id: int | None) -> None:
    assert parse_channel_ref(ref) == channel_id


@pytest.mark.parametrize("value, allowed", [(0, False), (1 << 10, False), (8, True), (1 << 5, True), (1 << 4, True)])
def test_who_can_manage(value: int, allowed: bool) -> None:
    assert can_manage(discord.Permissions(value)) is allowed
