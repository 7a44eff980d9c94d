"""Failures and slow commands: the user always gets an answer, the bot keeps answering."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from fake_discord import EPHEMERAL, GENERAL, PLAIN, FakeDiscord, InteractionLog

from adapters.discord import DiscordAdapter
from bot.commands import Args, CommandSpec, Context, Param
from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core
from bot.reply import Notice, Reply
from storage.sqlite import SQLiteRepository

StartBot = Callable[..., Awaitable[DiscordAdapter]]

SLOW = 0.3  # seconds a slow command takes
QUICK_ENOUGH = 0.05  # the adapter defers after this long in these tests


async def boom(ctx: Context, args: Args) -> Reply:
    raise RuntimeError("the handler broke")


async def slow(ctx: Context, args: Args) -> Reply:
    await asyncio.sleep(SLOW)
    count = int(args.get("messages", "1"))
    return Reply(tuple(Notice(f"part {n} " + "x" * 1900) for n in range(1, count + 1)),
                 ephemeral=args.get("private") == "yes")


TEST_COMMANDS = (
    CommandSpec("boom", "Test: always fails", (), boom),
    CommandSpec("slow", "Test: takes its time", (Param("messages", "How many", False, "int"),
                                                  Param("private", "yes for ephemeral", False)), slow),
)


@pytest.fixture
async def bot(start_bot: StartBot, repo: SQLiteRepository, settings: Settings) -> DiscordAdapter:
    return await start_bot(Core(repo, settings, (*COMMANDS, *TEST_COMMANDS)), answer_within=QUICK_ENOUGH)


async def settled(fake: FakeDiscord, log: InteractionLog, messages: int = 1) -> None:
    await fake.until(lambda: len(log.shown()) >= messages and not any(s.body.get("loading") for s in log.shown()))


async def test_a_failing_command_gets_a_private_apology_and_the_bot_carries_on(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    failed = await fake.invoke("boom")
    await settled(fake, failed)
    [apology] = failed.shown()
    assert apology.ephemeral and apology.content.startswith("Sorry, /boom failed on our side.")
    after = await fake.invoke("help")
    await settled(fake, after)
    assert "/latest" in after.shown()[0].content


async def test_an_adapter_failure_is_logged_with_context_and_apologised_for(
        bot: DiscordAdapter, fake: FakeDiscord, core: Core, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*args: object) -> Reply:
        raise ValueError("adapter-level failure")

    monkeypatch.setattr(bot.answerer.core, "handle", broken)
    failed = await fake.invoke("help")
    await settled(fake, failed)
    [apology] = failed.shown()
    assert apology.ephemeral
    assert apology.content == "Sorry, that failed on our side. It has been logged; please try again later."
    [record] = [r for r in caplog.records if r.name == "adapters.discord.interactions"]
    assert record.getMessage() == f"/help failed in discord:{GENERAL} for discord:{PLAIN}"
    assert record.exc_info and isinstance(record.exc_info[1], ValueError)
    assert "fake-token" not in caplog.text

    monkeypatch.undo()
    after = await fake.invoke("help")
    await settled(fake, after)
    assert not after.shown()[0].ephemeral


async def test_a_slow_command_is_deferred_then_its_answer_replaces_the_placeholder(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    log = await fake.invoke("slow", messages=2)
    await settled(fake, log, messages=2)
    assert log.callback_types == [5]
    assert log.answered_after is not None and log.answered_after < SLOW
    assert [kind for kind, _, _ in log.events] == ["callback", "edit", "followup"]
    first, second = log.shown()
    assert first.content.startswith("part 1") and second.content.startswith("part 2")
    assert not first.ephemeral and not second.ephemeral
    assert all(body["allowed_mentions"] == {"parse": []} for kind, body, _ in log.events if kind != "callback")


async def test_a_slow_private_answer_stays_private(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    log = await fake.invoke("slow", private="yes")
    await fake.until(lambda: len(log.events) >= 3)
    assert [kind for kind, _, _ in log.events] == ["callback", "delete", "followup"]
    assert log.events[2][1]["flags"] & EPHEMERAL
    [shown] = log.shown()
    assert shown.ephemeral and shown.content.startswith("part 1")


async def test_a_quick_private_answer_is_an_ephemeral_response(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    log = await fake.invoke("latest", count=0)
    await settled(fake, log)
    assert log.callback_types == [4]
    assert log.events[0][1]["data"]["flags"] == EPHEMERAL
