"""Every core command through the real adapter and the fake Bot API, in every kind of chat."""

from __future__ import annotations

import io
import logging

import pytest

from adapters.telegram import TelegramAdapter
from bot.commands import CommandSpec, Permission
from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core
from bot.logs import JsonFormatter, RedactingFormatter
from bot.model import Article
from bot.reply import Reply
from factories import draft
from fake_bot_api import FakeBotAPI
from storage.sqlite import SQLiteRepository
from telegram_harness import GROUP, GROUP_MEMBER, PRIVATE, TOKEN, ask, running

CHANNEL, FORUM = -100777, -100300


async def test_menu_is_published_and_only_needed_updates_asked_for(bot: TelegramAdapter, fake: FakeBotAPI,
                                                                    core: Core) -> None:
    await ask(fake, PRIVATE, "/help")
    assert fake.commands is not None
    assert [c["command"] for c in fake.commands] == [
        s.name for s in core.commands if s.permission is not Permission.OPERATOR]
    assert all(1 <= len(c["description"]) <= 256 for c in fake.commands)
    assert fake.allowed_updates == ["message", "channel_post", "my_chat_member"]
    assert bot.username == "newsdigest_bot"
    assert fake.unknown_methods == []


@pytest.mark.parametrize("text, expected", [
    ("/help", "newsdigest: compact news digests"),
    ("/start", "/latest [count] — The newest summaries"),
    ("/latest", "Latest 4"),
    ("/sources", "3 sources"),
    ("/search harbour contract", "1 found for 'harbour contract'"),
    ("/search", "Missing words. Usage: /search <words>"),
    ("/digest", "Your next digest (preview)"),
    ("/nosuch", "Unknown command /nosuch. Send /help for the list."),
    ("/latest many", "Count must be a number. Usage: /latest [count]"),
    ("/latest 99", "The count must be a whole number from 1 to 25"),
    ("/article 999", "No article #999 here."),
])
async def test_private_chat_commands(bot: TelegramAdapter, fake: FakeBotAPI, text: str, expected: str) -> None:
    [reply] = await ask(fake, PRIVATE, text)
    assert expected in reply.plain
    assert reply.thread_id is None


async def test_latest_with_a_count_lists_that_many(bot: TelegramAdapter, fake: FakeBotAPI,
                                                   stored: list[Article]) -> None:
    [reply] = await ask(fake, PRIVATE, "/latest 2")
    assert "Latest 2" in reply.plain
    assert f"#{stored[0].id}" in reply.plain and f"#{stored[1].id}" in reply.plain
    assert f"#{stored[2].id}" not in reply.plain


async def test_article_and_source_by_number(bot: TelegramAdapter, fake: FakeBotAPI, stored: list[Article]) -> None:
    newest = stored[0]
    [card] = await ask(fake, PRIVATE, f"/article {newest.id}")
    assert newest.title in card.plain and "Second point of 4." in card.plain
    [outlet] = await ask(fake, PRIVATE, f"/source {newest.id}")
    assert "Plainview Times" in outlet.plain and "Bias rating (AllSides): Center" in outlet.plain


async def test_replies_are_html_without_previews_or_silence(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    [reply] = await ask(fake, PRIVATE, "/latest 1")
    assert reply.parse_mode == "HTML"
    assert "<b>" in reply.text and "<a href=" in reply.text
    assert reply.options["link_preview_options"] == {"is_disabled": True}
    assert reply.options.get("disable_notification") in (None, False)


async def test_group_commands_for_this_bot_only(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.inject_text(GROUP, "/help@otherbot", user_id=GROUP_MEMBER)
    fake.inject_text(GROUP, "good morning everyone", user_id=GROUP_MEMBER)
    fake.inject_text(GROUP, "/sources@NewsDigest_Bot", user_id=GROUP_MEMBER)
    fake.inject_text(GROUP, "/latest 1", user_id=GROUP_MEMBER)
    first, second = await fake.wait_for_messages(2, GROUP)
    # one command at a time per chat: had the first two been answered, they would come first
    assert "3 sources" in first.plain
    assert "Latest 1" in second.plain
    assert len(fake.sent_to(GROUP)) == 2


async def test_forum_topic_reply_stays_in_the_topic(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.add_chat(FORUM, "supergroup", title="Forum", forum=True, topics=[7], members=[GROUP_MEMBER])
    [in_topic] = await ask(fake, FORUM, "/latest 1", user_id=GROUP_MEMBER, thread_id=7)
    [in_general] = await ask(fake, FORUM, "/latest 1", user_id=GROUP_MEMBER)
    assert in_topic.thread_id == 7
    assert in_general.thread_id is None


async def test_command_posted_in_a_channel(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan")
    [reply] = await ask(fake, CHANNEL, "/latest 1")
    assert "Latest 1" in reply.plain


async def test_markup_in_stored_titles_arrives_escaped(bot: TelegramAdapter, fake: FakeBotAPI,
                                                       repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(9, "Ledger Wire", title="<b>& @everyone </b> <script>x</script>")])
    [reply] = await ask(fake, PRIVATE, "/latest 1")
    assert "&lt;b&gt;&amp; @everyone &lt;/b&gt; &lt;script&gt;" in reply.text
    assert "<b>& @everyone </b> <script>x</script>" in reply.plain  # shown as typed, not as markup


async def test_a_failing_handler_is_logged_and_apologised_for(fake: FakeBotAPI, repo: SQLiteRepository,
                                                               settings: Settings, stored: list[Article],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    async def unrenderable(ctx: object, args: object) -> Reply:
        return Reply((object(),))  # type: ignore[arg-type]  # the renderer raises TypeError

    core = Core(repo, settings, (*COMMANDS, CommandSpec("broken", "Fails while sending (test)", (), unrenderable)))
    async with running(core, fake):
        [apology] = await ask(fake, PRIVATE, "/broken")
        [help_] = await ask(fake, PRIVATE, "/help")
    assert apology.plain.startswith("Sorry, something went wrong on our side.")
    assert "/broken" in help_.plain  # still running
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.name.startswith("adapters.telegram")]
    assert failures and "telegram:42" in failures[0].getMessage() and failures[0].exc_info


@pytest.mark.parametrize("formatter", [RedactingFormatter("%(name)s %(message)s"), JsonFormatter()])
async def test_the_token_never_reaches_the_logs(fake: FakeBotAPI, core: Core, stored: list[Article],
                                                caplog: pytest.LogCaptureFixture,
                                                formatter: logging.Formatter) -> None:
    """PTB (at DEBUG) and httpx (at INFO) log URLs that carry the token; the project's formatters mask it."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(formatter)
    caplog.set_level(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        async with running(core, fake):
            await ask(fake, PRIVATE, "/latest")
    finally:
        logging.getLogger().removeHandler(handler)
    assert TOKEN in caplog.text  # the libraries do log it: the masking below is doing real work
    assert "getUpdates" in output.getvalue()
    assert TOKEN not in output.getvalue() and TOKEN.partition(":")[2] not in output.getvalue()
    assert not [r for r in caplog.records if r.name.startswith("adapters") and TOKEN in r.getMessage()]


async def test_connected_follows_the_adapter_lifecycle(core: Core, fake: FakeBotAPI) -> None:
    async with running(core, fake) as adapter:
        assert adapter.connected
    assert not adapter.connected
