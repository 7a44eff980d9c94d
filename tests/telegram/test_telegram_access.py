"""Who may run what: chat-admin checks, the admin cache, and naming another chat (resolve_chat)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest

from adapters.telegram import TelegramAdapter
from bot.commands import Args, CommandSpec, Context, Param, Permission
from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core
from bot.model import ChatRef
from bot.reply import Reply
from fake_bot_api import FakeBotAPI
from storage.sqlite import SQLiteRepository
from telegram_harness import (GROUP, GROUP_ADMIN, GROUP_MEMBER, GROUP_OWNER, PRIVATE, ManualClock, ask,
                              running)

CHANNEL = -100777
ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot: the sender shown for anonymous admins
REFUSED = "Sorry, only this chat's admins can use /purge."


async def purge(ctx: Context, args: Args) -> Reply:
    return Reply.notice("purged")


async def where(ctx: Context, args: Args) -> Reply:
    chat = await ctx.request.access.resolve_chat(args["chat"])
    return Reply.notice(f"resolved {chat.platform}:{chat.chat_id}")


TEST_COMMANDS = (
    CommandSpec("purge", "Admins only (test)", (), purge, Permission.CHAT_ADMIN),
    CommandSpec("where", "Resolve a chat (test)", (Param("chat", "A chat", kind="chat"),), where),
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def admin_bot(repo: SQLiteRepository, settings: Settings, fake: FakeBotAPI,
                    clock: ManualClock) -> AsyncIterator[TelegramAdapter]:
    core = Core(repo, settings, (*COMMANDS, *TEST_COMMANDS))
    async with running(core, fake, clock=clock) as adapter:
        yield adapter


def member_checks(fake: FakeBotAPI, chat_id: int, user_id: int) -> int:
    return len(fake.calls_of("getChatMember", chat_id=chat_id, user_id=user_id))


async def test_admin_only_command_in_a_group(admin_bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    [refused] = await ask(fake, GROUP, "/purge", user_id=GROUP_MEMBER)
    [allowed] = await ask(fake, GROUP, "/purge", user_id=GROUP_ADMIN)
    [owner] = await ask(fake, GROUP, "/purge@newsdigest_bot", user_id=GROUP_OWNER)
    assert refused.plain == REFUSED
    assert allowed.plain == "purged" and owner.plain == "purged"


async def test_admin_answers_are_cached_for_a_minute(admin_bot: TelegramAdapter, fake: FakeBotAPI,
                                                     clock: ManualClock) -> None:
    for _ in range(3):
        [reply] = await ask(fake, GROUP, "/purge", user_id=GROUP_ADMIN)
        assert reply.plain == "purged"
    assert member_checks(fake, GROUP, GROUP_ADMIN) == 1
    fake.chats[GROUP].admins.discard(GROUP_ADMIN)  # demoted
    clock.advance(30)
    [still_cached] = await ask(fake, GROUP, "/purge", user_id=GROUP_ADMIN)
    clock.advance(31)
    [asked_again] = await ask(fake, GROUP, "/purge", user_id=GROUP_ADMIN)
    assert still_cached.plain == "purged"
    assert asked_again.plain == REFUSED
    assert member_checks(fake, GROUP, GROUP_ADMIN) == 2


async def test_private_chats_channels_and_anonymous_admins_need_no_lookup(admin_bot: TelegramAdapter,
                                                                           fake: FakeBotAPI) -> None:
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan")
    [private] = await ask(fake, PRIVATE, "/purge")
    [channel] = await ask(fake, CHANNEL, "/purge")
    [anonymous] = await ask(fake, GROUP, "/purge", user_id=ANONYMOUS_ADMIN, sender_chat_id=GROUP)
    assert (private.plain, channel.plain, anonymous.plain) == ("purged", "purged", "purged")
    assert fake.calls_of("getChatMember") == []


async def test_a_message_on_behalf_of_another_chat_is_no_admin(admin_bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.add_chat(CHANNEL, "channel", title="Linked channel")
    [reply] = await ask(fake, GROUP, "/purge", user_id=ANONYMOUS_ADMIN, sender_chat_id=CHANNEL)
    assert reply.plain == REFUSED


@pytest.mark.parametrize("setup, expected", [
    (dict(owner=PRIVATE), f"resolved telegram:{CHANNEL}"),
    (dict(admins=[PRIVATE]), f"resolved telegram:{CHANNEL}"),
    (dict(owner=99), "You are not an admin of @news_chan."),
    (dict(owner=99, members=[PRIVATE]), "You are not an admin of @news_chan."),
    (dict(owner=PRIVATE, bot_status="left"), "I am not an admin of @news_chan with permission to post."),
    (dict(owner=PRIVATE, bot_can_post=False), "I am not an admin of @news_chan with permission to post."),
])
async def test_resolving_a_channel(admin_bot: TelegramAdapter, fake: FakeBotAPI, setup: dict[str, object],
                                   expected: str) -> None:
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan", **setup)  # type: ignore[arg-type]
    [reply] = await ask(fake, PRIVATE, "/where @news_chan")
    assert reply.plain == expected


async def test_resolving_by_numeric_id_and_a_group(admin_bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.add_chat(CHANNEL, "channel", title="News channel", owner=PRIVATE)
    fake.add_chat(-100555, "supergroup", title="Club", username="club", admins=[PRIVATE])
    fake.add_chat(-100556, "supergroup", title="Gone club", username="goneclub", admins=[PRIVATE],
                  bot_status="left")
    [by_id] = await ask(fake, PRIVATE, f"/where {CHANNEL}")
    [group] = await ask(fake, PRIVATE, "/where @club")
    [left] = await ask(fake, PRIVATE, "/where @goneclub")
    assert by_id.plain == f"resolved telegram:{CHANNEL}"
    assert group.plain == "resolved telegram:-100555"
    assert left.plain == "I am not a member of @goneclub who may post there."


async def test_resolving_an_unknown_chat_or_without_a_user(admin_bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan", owner=PRIVATE)
    [unknown] = await ask(fake, PRIVATE, "/where @nowhere")
    [not_a_name] = await ask(fake, PRIVATE, "/where news_chan")
    [from_channel] = await ask(fake, CHANNEL, "/where @news_chan")
    assert unknown.plain.startswith("I can't find @nowhere.")
    assert not_a_name.plain.startswith("I can't find news_chan")
    assert from_channel.plain.startswith("Send this from a private chat with me")


async def test_subscribing_a_channel_the_bot_is_not_in_says_to_add_it(bot: TelegramAdapter,
                                                                      fake: FakeBotAPI) -> None:
    """Telegram answers getChatMember with 403 there; that was 'failed on our side'."""
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan", owner=PRIVATE)
    fake.fail_next("getChatMember", 403, "Forbidden: bot is not a member of the channel chat", times=5)
    [reply] = await ask(fake, PRIVATE, "/subscribe @news_chan 07:30")
    assert reply.plain == ("I am not in @news_chan, so I cannot check that you run it. Add me to it as an admin"
                           " first.")


@pytest.mark.parametrize("lost", ["post right", "kicked"])
async def test_a_channel_the_bot_lost_can_still_be_unsubscribed(bot: TelegramAdapter, fake: FakeBotAPI,
                                                                repo: SQLiteRepository, lost: str) -> None:
    """Unsubscribing checked the bot's right to post, which is what was lost: the paused
    subscription could never be removed."""
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan", owner=PRIVATE)
    [done] = await ask(fake, PRIVATE, "/subscribe @news_chan 07:30 Europe/Berlin")
    assert done.plain.startswith("Subscribed")
    if lost == "post right":
        fake.chats[CHANNEL].bot_can_post = False
    else:  # Telegram no longer tells a kicked bot who runs the channel
        fake.fail_next("getChatMember", 403, "Forbidden: bot was kicked from the channel chat", times=5)
    [reply] = await ask(fake, PRIVATE, "/unsubscribe @news_chan")
    assert reply.plain.startswith("Unsubscribed")
    assert await repo.get_subscription(ChatRef("telegram", str(CHANNEL))) is None


# the core's subscription commands, end to end


async def test_a_group_admin_subscribes_the_group(bot: TelegramAdapter, fake: FakeBotAPI,
                                                  repo: SQLiteRepository) -> None:
    [refused] = await ask(fake, GROUP, "/subscribe 07:30 Europe/Berlin", user_id=GROUP_MEMBER)
    assert refused.plain == "Sorry, only this chat's admins can use /subscribe."
    assert await repo.get_subscription(ChatRef("telegram", str(GROUP))) is None
    [done] = await ask(fake, GROUP, "/subscribe 07:30 Europe/Berlin", user_id=GROUP_ADMIN)
    assert done.plain.startswith("Subscribed: this chat gets a digest at")
    saved = await repo.get_subscription(ChatRef("telegram", str(GROUP)))
    assert saved is not None and saved.schedule.times == ("07:30",)
    assert saved.schedule.timezone == "Europe/Berlin"


async def test_a_channel_is_subscribed_from_a_private_chat(bot: TelegramAdapter, fake: FakeBotAPI,
                                                           repo: SQLiteRepository) -> None:
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan", owner=PRIVATE)
    [done] = await ask(fake, PRIVATE, "/subscribe @news_chan 07:30 Europe/Berlin")
    assert done.plain.startswith(f"Subscribed: {CHANNEL} gets a digest at")
    saved = await repo.get_subscription(ChatRef("telegram", str(CHANNEL)))
    assert saved is not None and saved.next_due_at is not None
    local = saved.next_due_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (7, 30)
    assert await repo.get_subscription(ChatRef("telegram", str(PRIVATE))) is None
    [gone] = await ask(fake, PRIVATE, "/unsubscribe @news_chan")
    assert gone.plain == f"Unsubscribed: no more digests for {CHANNEL}."


async def test_a_channel_someone_else_runs_cannot_be_subscribed(bot: TelegramAdapter, fake: FakeBotAPI,
                                                                repo: SQLiteRepository) -> None:
    fake.add_chat(CHANNEL, "channel", title="News channel", username="news_chan", owner=99)
    [refused] = await ask(fake, PRIVATE, "/subscribe @news_chan 07:30 Europe/Berlin")
    assert refused.plain == "You are not an admin of @news_chan."
    assert await repo.get_subscription(ChatRef("telegram", str(CHANNEL))) is None


async def test_settings_are_shown_to_members_and_changed_by_admins(bot: TelegramAdapter, fake: FakeBotAPI,
                                                                   repo: SQLiteRepository) -> None:
    await ask(fake, GROUP, "/subscribe 07:30", user_id=GROUP_ADMIN)
    [shown] = await ask(fake, GROUP, "/settings", user_id=GROUP_MEMBER)
    [refused] = await ask(fake, GROUP, "/settings items 3", user_id=GROUP_MEMBER)
    [changed] = await ask(fake, GROUP, "/settings items 3", user_id=GROUP_ADMIN)
    assert "items 8" in shown.plain
    assert refused.plain == "Sorry, only this chat's admins can change its digest settings."
    assert "items 3" in changed.plain
    saved = await repo.get_subscription(ChatRef("telegram", str(GROUP)))
    assert saved is not None and saved.options.items == 3
