"""Autocomplete: outlet names visible in the chat, and IANA time zones, at most 25 of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fake_discord import FakeDiscord, InteractionLog

from adapters.discord import DiscordAdapter
from adapters.discord.completion import suggest
from bot.commands import Args, CommandSpec, Context, Param
from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core
from bot.reply import Reply
from storage.sqlite import SQLiteRepository

StartBot = Callable[..., Awaitable[DiscordAdapter]]


async def echo(ctx: Context, args: Args) -> Reply:
    return Reply.notice(args["zone"])


ZONE = CommandSpec("zone", "Test: takes a time zone", (Param("zone", "A time zone", autocomplete="timezones"),), echo)


@pytest.fixture
async def bot(start_bot: StartBot, repo: SQLiteRepository, settings: Settings, stored: None) -> DiscordAdapter:
    return await start_bot(Core(repo, settings, (*COMMANDS, ZONE)))


async def suggestions(fake: FakeDiscord, log: InteractionLog) -> list[str]:
    await fake.until(lambda: log.choices is not None)
    assert log.answered_after is not None and log.answered_after < 3.0
    assert log.choices is not None
    assert all(c["name"] == c["value"] for c in log.choices)
    return [c["value"] for c in log.choices]


async def test_outlet_names_complete_by_prefix_then_by_word(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    assert await suggestions(fake, await fake.autocomplete("source", "ref", ref="har")) == ["Harbour Courier"]
    assert await suggestions(fake, await fake.autocomplete("source", "ref", ref="WIRE")) == ["Ledger Wire"]
    everything = await suggestions(fake, await fake.autocomplete("source", "ref", ref=""))
    assert sorted(everything) == ["Harbour Courier", "Ledger Wire", "Plainview Times"]


async def test_time_zones_complete_by_prefix_up_to_25(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    europe = await suggestions(fake, await fake.autocomplete("zone", "zone", zone="Europe/Be"))
    assert "Europe/Berlin" in europe and all(z.startswith("Europe/Be") for z in europe)
    assert await suggestions(fake, await fake.autocomplete("zone", "zone", zone="berl")) == ["Europe/Berlin"]
    assert len(await suggestions(fake, await fake.autocomplete("zone", "zone", zone=""))) == 25


def test_suggestions_skip_names_too_long_to_send_back() -> None:
    assert [c.value for c in suggest(["x" * 101, "xy"], "x")] == ["xy"]
