"""Admin-only commands: Discord's UI hint, the run-time check, and naming another channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from fake_discord import (ADMIN, ADMINISTRATOR, CHANNEL_MOD, DM, FORUM, FORUM_POST, GENERAL, LOCKED, MOD, NEWS,
                          OPERATOR, PLAIN, THREAD, FakeDiscord, Shown)

from adapters.discord import DiscordAdapter
from bot.commands import Args, CommandSpec, Context, Param, Permission
from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core
from bot.reply import Reply
from storage.sqlite import SQLiteRepository

StartBot = Callable[..., Awaitable[DiscordAdapter]]

OUTSIDE_GUILD = 777000000000000001


async def where(ctx: Context, args: Args) -> Reply:
    """Says which chat it would act on: the named channel, else this one."""
    chat = await ctx.request.access.resolve_chat(args["channel"]) if "channel" in args else ctx.request.chat
    return Reply.notice(f"ok {chat.chat_id} {chat.thread_id}")


ADMIN_ONLY = CommandSpec("where", "Test: an admin-only command that may name a channel",
                         (Param("channel", "A channel", required=False, kind="chat"),), where,
                         permission=Permission.CHAT_ADMIN)


@pytest.fixture
async def admin_bot(start_bot: StartBot, repo: SQLiteRepository, settings: Settings) -> DiscordAdapter:
    return await start_bot(Core(repo, settings, (*COMMANDS, ADMIN_ONLY)))


async def reply_to(fake: FakeDiscord, **invoke: object) -> Shown:
    log = await fake.invoke("where", **invoke)  # type: ignore[arg-type]
    await fake.until(lambda: bool(log.shown()))
    [shown] = log.shown()
    return shown


async def test_the_command_is_hinted_for_manage_server_and_takes_any_postable_channel(
        admin_bot: DiscordAdapter, fake: FakeDiscord) -> None:
    [published] = [c for c in fake.commands[None] if c["name"] == "where"]
    assert published["default_member_permissions"] == 32
    [option] = published["options"]
    assert option["type"] == 7 and option["name"] == "channel" and option["required"] is False
    assert set(option["channel_types"]) == {0, 5, 10, 11, 12, 15}  # text, news, threads, forum


@pytest.mark.parametrize("user, channel, permissions", [
    (MOD, GENERAL, None),  # Manage Server
    (CHANNEL_MOD, NEWS, None),  # Manage Channels where the command is used
    (ADMIN, GENERAL, ADMINISTRATOR),  # the administrator bit alone, as some payloads carry it
    (OPERATOR, GENERAL, None),  # NEWSDIGEST_ADMINS discord:1, a plain member otherwise
    (PLAIN, DM, None),  # in a DM the user is the admin
])
async def test_admins_pass(admin_bot: DiscordAdapter, fake: FakeDiscord, user: int, channel: int,
                           permissions: int | None) -> None:
    shown = await reply_to(fake, user=user, in_channel=channel, permissions=permissions)
    assert shown.content.startswith("ok ")


@pytest.mark.parametrize("user, channel", [(PLAIN, GENERAL), (CHANNEL_MOD, GENERAL)])
async def test_plain_members_are_refused_privately(admin_bot: DiscordAdapter, fake: FakeDiscord, user: int,
                                                   channel: int) -> None:
    shown = await reply_to(fake, user=user, in_channel=channel)
    assert shown.ephemeral
    assert shown.content == "Sorry, only this chat's admins can use /where."


@pytest.mark.parametrize("target, expected", [
    (NEWS, f"ok {NEWS} None"),
    (THREAD, f"ok {GENERAL} {THREAD}"),  # a thread: its channel plus the thread
    (FORUM, f"ok {FORUM} None"),  # a forum: each digest becomes a new post
    (FORUM_POST, f"ok {FORUM} {FORUM_POST}"),  # a forum post is a thread
])
async def test_named_channels_resolve_to_chat_refs(admin_bot: DiscordAdapter, fake: FakeDiscord, target: int,
                                                   expected: str) -> None:
    shown = await reply_to(fake, user=MOD, channel=target)
    assert shown.content == expected


@pytest.mark.parametrize("user, target, refusal", [
    (MOD, LOCKED, "I need Send Messages, Embed Links in #locked. Ask a server admin to grant them."),
    (CHANNEL_MOD, GENERAL, "You need Manage Server or Manage Channels in #general to do that."),
])
async def test_naming_a_channel_checks_it_exists_the_caller_runs_it_and_the_bot_can_post(
        admin_bot: DiscordAdapter, fake: FakeDiscord, user: int, target: int, refusal: str) -> None:
    shown = await reply_to(fake, user=user, in_channel=NEWS, channel=target)
    assert shown.ephemeral
    assert shown.content == refusal


@pytest.mark.parametrize("guild_id", [None, "888000000000000001"])
async def test_channels_that_are_unknown_or_in_another_server_are_refused(
        admin_bot: DiscordAdapter, fake: FakeDiscord, guild_id: str | None) -> None:
    """Not in the guild cache: the bot asks Discord (GET /channels/{id}) once."""
    elsewhere = {**fake.channels[GENERAL], "id": str(OUTSIDE_GUILD), "name": "elsewhere", "guild_id": guild_id}
    fake.channels[OUTSIDE_GUILD] = elsewhere  # visible to the option resolver
    if guild_id is None:
        fake.fail("GET", f"/channels/{OUTSIDE_GUILD}", 404, {"message": "Unknown Channel", "code": 10003})
    shown = await reply_to(fake, user=MOD, channel=OUTSIDE_GUILD)
    assert shown.ephemeral
    assert shown.content == "I can't find that channel in this server, or I can't see it."
    assert len(fake.calls("GET", f"/channels/{OUTSIDE_GUILD}")) == 1
