"""Start-up against the fake: login, gateway, and the slash commands published from core.commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fake_discord import GUILD_ID, FakeDiscord

from adapters.discord import DiscordAdapter
from bot.commands import Permission
from bot.core import Core

StartBot = Callable[..., Awaitable[DiscordAdapter]]


def by_name(commands: list[dict]) -> dict[str, dict]:
    return {c["name"]: c for c in commands}


async def test_every_core_command_is_published_with_typed_described_options(bot: DiscordAdapter, core: Core,
                                                                          fake: FakeDiscord) -> None:
    published = by_name(fake.commands[None])
    assert set(published) == {spec.name for spec in core.commands}
    assert published["latest"]["options"] == [
        {"type": 4, "name": "count", "description": "How many (1-25)", "required": False}]
    assert published["article"]["options"] == [
        {"type": 4, "name": "id", "description": "Article number", "required": True}]
    assert published["source"]["options"] == [{"type": 3, "name": "ref", "description":
                                               "An article number or an outlet name", "required": True,
                                               "autocomplete": True}]
    assert published["search"]["options"][0]["type"] == 3
    for command in published.values():
        assert 1 <= len(command["description"]) <= 100
        for option in command.get("options", []):
            assert option["name"] == option["name"].lower() and 1 <= len(option["name"]) <= 32
            assert " " not in option["name"] and 1 <= len(option["description"]) <= 100
    hint = {Permission.EVERYONE: None, Permission.CHAT_ADMIN: 32, Permission.OPERATOR: 0}  # 32 = Manage Server
    for spec in core.commands:
        assert published[spec.name]["default_member_permissions"] == hint[spec.permission]


async def test_login_uses_no_privileged_intents_and_only_known_routes(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    assert fake.identify is not None
    assert fake.identify["intents"] == 1  # GUILDS alone
    assert fake.identify["token"] == "fake-token-never-logged"
    assert fake.unknown_routes == []
    assert [r.path for r in fake.requests[:3]] == ["/users/@me", "/oauth2/applications/@me", "/gateway/bot"]
    assert bot.client.get_guild(GUILD_ID) is not None


async def test_guild_sync_registers_commands_in_that_guild_only(start_bot: StartBot, core: Core,
                                                                fake: FakeDiscord) -> None:
    await start_bot(core, sync_guild=GUILD_ID)
    assert None not in fake.commands
    assert set(by_name(fake.commands[GUILD_ID])) == {spec.name for spec in core.commands}


async def test_stop_puts_discord_py_endpoints_back(start_bot: StartBot, core: Core) -> None:
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    adapter = await start_bot(core)
    assert Route.BASE.startswith("http://127.0.0.1:")
    await adapter.stop()
    assert Route.BASE == "https://discord.com/api/v10"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_a_refused_login_raises_from_start(core: Core, fake: FakeDiscord) -> None:
    import discord

    fake.fail("GET", "/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
    adapter = DiscordAdapter(core, "bad-token", api_base_url=fake.base_url)
    with pytest.raises(discord.LoginFailure):
        await adapter.start()


async def test_connected_follows_the_gateway(start_bot: StartBot, core: Core) -> None:
    adapter = await start_bot(core)
    assert adapter.connected
    await adapter.stop()
    assert not adapter.connected
