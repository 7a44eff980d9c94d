"""Messenger.send against the fake: pacing, 429s, kicked bots, migrations, long replies, failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.telegram import RateSettings, TelegramAdapter
from bot.core import Core
from bot.delivery import DigestDispatcher
from bot.model import BiasRating, ChatRef, Schedule
from bot.outbox import Outcome
from bot.render.telegram import render_telegram
from bot.reply import Heading, ItemLine, Notice, Reply
from fake_bot_api import Caps, FakeBotAPI, utf16_length
from storage.sqlite import SQLiteRepository
from telegram_harness import (GROUP, GROUP_MEMBER, GROUP_OWNER, PRIVATE, ManualClock, ask, eventually, running,
                              serving)

DUE = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
# PTB warns about its own RetryAfter type change whenever it builds one; that is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")


def chat(chat_id: int, thread: int | None = None) -> ChatRef:
    return ChatRef("telegram", str(chat_id), None if thread is None else str(thread))


def long_reply(items: int = 40) -> Reply:
    lines = [ItemLine(n, f"Story {n}: " + "a fairly long headline about the harbour " * 4,
                      f"https://example.com/{n}", "Plainview Times", BiasRating.CENTER, "Lead text. " * 30)
             for n in range(1, items + 1)]
    return Reply((Heading("Digest"), *lines))


async def test_a_long_reply_arrives_whole_and_in_order(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    reply = long_reply()
    expected = render_telegram(reply)
    assert len(expected) >= 3
    result = await bot.send(chat(PRIVATE), reply)
    assert result.outcome is Outcome.SENT and len(result.message_ids) == len(expected)
    received = fake.sent_to(PRIVATE)
    assert [m.text for m in received] == expected
    assert [str(m.message_id) for m in received] == list(result.message_ids)
    assert all(utf16_length(m.plain) <= 4096 for m in received)


async def test_quiet_digests_with_previews(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    result = await bot.send(chat(PRIVATE), Reply((Notice("hello"),), silent=True, previews=True))
    [message] = fake.sent_to(PRIVATE)
    assert result.outcome is Outcome.SENT
    assert message.options["disable_notification"] is True
    assert message.options["link_preview_options"] == {"is_disabled": False}


async def test_a_digest_goes_into_its_forum_topic(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.add_chat(-100300, "supergroup", forum=True, topics=[7])
    result = await bot.send(chat(-100300, 7), Reply.notice("in the topic"))
    assert result.outcome is Outcome.SENT
    assert [m.thread_id for m in fake.sent_to(-100300)] == [7]


async def test_a_429_burst_loses_nothing_and_waits_as_told(core: Core) -> None:
    clock = ManualClock()
    ids = range(1001, 1013)
    async with serving(Caps(overall=(5, 1.0), per_chat=None, per_group=None), clock.now) as fake:
        for chat_id in ids:
            fake.add_chat(chat_id, "private")
        async with running(core, fake, clock=clock) as adapter:  # its own caps are far above the fake's
            results = await asyncio.gather(*(adapter.send(chat(i), Reply.notice(f"to {i}")) for i in ids))
    assert [r.outcome for r in results] == [Outcome.SENT] * len(ids)
    assert sorted(m.chat_id for m in fake.sent) == list(ids)  # each delivered exactly once
    assert fake.too_many_requests > 0
    for chat_id in ids:
        attempts = fake.calls_of("sendMessage", chat_id=chat_id)
        assert [a.status for a in attempts[:-1]] == [429] * (len(attempts) - 1) and attempts[-1].status == 200
        for refusal, retry in zip(attempts, attempts[1:]):
            assert retry.at - refusal.at >= refusal.parameters["retry_after"]  # type: ignore[index]


async def test_telegram_default_caps_are_kept_without_a_single_429(core: Core) -> None:
    """Real limits, virtual time: 25 messages to one group take over a minute, none refused."""
    clock = ManualClock()
    async with serving(Caps(), clock.now) as fake:
        async with running(core, fake, clock=clock, rates=RateSettings()) as adapter:
            start = clock.now()
            results = [await adapter.send(chat(GROUP), Reply.notice(f"message {n}")) for n in range(25)]
            private = [await adapter.send(chat(PRIVATE), Reply.notice(f"note {n}")) for n in range(3)]
    assert {r.outcome for r in results + private} == {Outcome.SENT}
    assert fake.too_many_requests == 0
    group_times = [m.at for m in fake.sent_to(GROUP)]
    assert [m.plain for m in fake.sent_to(GROUP)] == [f"message {n}" for n in range(25)]
    assert all(b - a >= 1.0 for a, b in zip(group_times, group_times[1:]))  # one a second per chat
    assert group_times[20] - group_times[0] >= 60.0  # 20 a minute per group
    assert clock.now() - start < 80  # and no slower than that needs
    private_times = [m.at for m in fake.sent_to(PRIVATE)]
    assert all(b - a >= 1.0 for a, b in zip(private_times, private_times[1:]))


async def test_caps_are_kept_in_real_time_across_chats(core: Core) -> None:
    """Real clock and HTTP: three chats at once share a 40/s budget; no 429."""
    caps = Caps(overall=(40, 1.0), per_chat=(20, 1.0), per_group=None)
    rates = RateSettings(overall_per_second=40, per_chat_per_second=20, per_group_per_minute=10_000)
    ids = (2001, 2002, 2003)
    async with serving(caps) as fake:
        for chat_id in ids:
            fake.add_chat(chat_id, "private")
        async with running(core, fake, rates=rates) as adapter:
            replies = [Reply(tuple(Notice(f"{chat_id}: {n} " + "x" * 4000) for n in range(15))) for chat_id in ids]
            results = await asyncio.gather(*(adapter.send(chat(i), r) for i, r in zip(ids, replies)))
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert fake.too_many_requests == 0
    for chat_id in ids:
        assert [m.plain.split(" ")[1] for m in fake.sent_to(chat_id)] == [str(n) for n in range(15)]


async def test_a_kicked_bot_gives_up_at_once(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.chats[GROUP].kicked = True
    result = await bot.send(chat(GROUP), long_reply())
    assert (result.outcome, result.gone) == (Outcome.GONE, chat(GROUP))
    assert result.reason == "Forbidden: bot was kicked from the supergroup chat"
    assert len(fake.calls_of("sendMessage", chat_id=GROUP)) == 1  # no retry loop


async def test_a_digest_to_a_chat_that_kicked_the_bot_ends_its_subscription(
        bot: TelegramAdapter, fake: FakeBotAPI, repo: SQLiteRepository) -> None:
    await ask(fake, PRIVATE, "/subscribe 07:30 UTC")
    subscription = await repo.get_subscription(chat(PRIVATE))
    assert subscription is not None and subscription.next_due_at is not None
    fake.chats[PRIVATE].kicked = True
    after_due = subscription.next_due_at + timedelta(minutes=1)
    report = await DigestDispatcher(repo, {"telegram": bot}, clock=lambda: after_due).tick()
    assert (report.sent, report.gone) == (0, 1)
    subscription = await repo.get_subscription(chat(PRIVATE))
    assert subscription is not None and not subscription.enabled
    assert subscription.disabled_reason == "Forbidden: bot was blocked by the user"


async def test_a_command_in_a_chat_the_bot_may_not_post_in_ends_its_subscription(
        bot: TelegramAdapter, fake: FakeBotAPI, repo: SQLiteRepository) -> None:
    await ask(fake, PRIVATE, "/subscribe 07:30 UTC")
    fake.chats[PRIVATE].kicked = True
    fake.inject_text(PRIVATE, "/latest")

    async def ended() -> bool:
        subscription = await repo.get_subscription(chat(PRIVATE))
        return subscription is not None and not subscription.enabled

    await eventually(ended)


async def enabled_topics(repo: SQLiteRepository, chat_id: int, expected: dict[int | None, bool]) -> bool:
    found = {t: await repo.get_subscription(chat(chat_id, t)) for t in (7, 8, None)}
    return {t: s.enabled for t, s in found.items() if s is not None} == expected


async def test_a_deleted_topic_ends_only_its_own_subscription(bot: TelegramAdapter, fake: FakeBotAPI,
                                                              repo: SQLiteRepository) -> None:
    fake.add_chat(-100300, "supergroup", forum=True, topics=[7])
    for where in (chat(-100300, 7), chat(-100300, 8), chat(-100300)):
        await repo.save_subscription(where, Schedule(), DUE)
    fake.inject_text(-100300, "/latest", user_id=GROUP_MEMBER, thread_id=8)  # its topic is deleted meanwhile
    await eventually(lambda: enabled_topics(repo, -100300, {7: True, 8: False, None: True}))
    fake.chats[-100300].kicked = True
    result = await bot.send(chat(-100300, 7), Reply.notice("kicked meanwhile"))
    assert (result.outcome, result.gone) == (Outcome.GONE, chat(-100300))  # the whole chat
    fake.inject_text(-100300, "/latest", user_id=GROUP_MEMBER, thread_id=7)  # its answer finds the whole chat gone
    await eventually(lambda: enabled_topics(repo, -100300, {7: False, 8: False, None: False}))


async def test_a_user_who_blocked_the_bot(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.chats[PRIVATE].kicked = True
    result = await bot.send(chat(PRIVATE), Reply.notice("hello"))
    assert (result.outcome, result.reason) == (Outcome.GONE, "Forbidden: bot was blocked by the user")


async def test_an_unknown_chat_is_gone(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    result = await bot.send(chat(-100999), Reply.notice("hello"))
    assert (result.outcome, result.reason) == (Outcome.GONE, "Chat not found")  # PTB drops "Bad Request: "
    assert result.gone == chat(-100999)


async def test_a_group_that_became_a_supergroup_is_followed(bot: TelegramAdapter, fake: FakeBotAPI,
                                                            repo: SQLiteRepository) -> None:
    fake.add_chat(-500, "group")
    fake.add_chat(-100500, "supergroup")
    fake.chats[-500].migrated_to = -100500
    await repo.save_subscription(chat(-500), Schedule(), DUE)
    reply = long_reply()
    result = await bot.send(chat(-500), reply)
    assert result.outcome is Outcome.SENT
    assert result.moved_to == chat(-100500)
    assert [m.text for m in fake.sent_to(-100500)] == render_telegram(reply)
    assert fake.sent_to(-500) == []
    assert await repo.get_subscription(chat(-500)) is None
    assert await repo.get_subscription(chat(-100500)) is not None


async def test_network_trouble_is_retried_then_reported(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    recovered = await bot.send(chat(PRIVATE), Reply.notice("first"))
    fake.fail_next("sendMessage", 502, "Bad Gateway", times=10)
    failed = await bot.send(chat(PRIVATE), Reply.notice("second"))
    assert recovered.outcome is Outcome.SENT
    assert (failed.outcome, failed.reason) == (Outcome.RETRY_LATER, "network: Bad Gateway")
    assert [m.plain for m in fake.sent_to(PRIVATE)] == ["first"]
    assert len(fake.calls_of("sendMessage", chat_id=PRIVATE)) == 3 + 4  # max_retries 3: four attempts


async def test_a_long_flood_wait_is_reported_not_slept(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3600", parameters={"retry_after": 3600})
    result = await bot.send(chat(PRIVATE), Reply.notice("hello"))
    assert (result.outcome, result.reason) == (Outcome.RETRY_LATER, "flood control: retry in 3600 s")
    assert len(fake.calls_of("sendMessage")) == 1


async def test_a_rejected_message_stops_the_reply_and_says_how_far_it_got(bot: TelegramAdapter,
                                                                          fake: FakeBotAPI) -> None:
    reply = long_reply()
    total = len(render_telegram(reply))
    fake.fail_next("sendMessage", 400, 'Bad Request: can\'t parse entities: Unsupported start tag "x"', after=1)
    result = await bot.send(chat(PRIVATE), reply)
    assert result.outcome is Outcome.RETRY_LATER
    assert result.reason == (f'rejected: Can\'t parse entities: unsupported start tag "x" '
                             f"(after 1 of {total} messages)")
    assert len(result.message_ids) == 1 and len(fake.sent_to(PRIVATE)) == 1
    assert len(fake.calls_of("sendMessage")) == 2  # no retry of a message Telegram refuses


async def test_a_retry_sends_only_what_the_first_attempt_did_not(bot: TelegramAdapter, fake: FakeBotAPI) -> None:
    reply = long_reply()
    expected = render_telegram(reply)
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3600", parameters={"retry_after": 3600},
                   after=1)
    first = await bot.send(chat(PRIVATE), reply)
    assert first.outcome is Outcome.RETRY_LATER and len(first.message_ids) == 1
    again = await bot.send(chat(PRIVATE), reply, first.message_ids)
    assert again.outcome is Outcome.SENT
    received = fake.sent_to(PRIVATE)
    assert [m.text for m in received] == expected  # each part once, in order
    assert [str(m.message_id) for m in received] == list(again.message_ids)


async def test_service_updates_move_and_end_subscriptions(bot: TelegramAdapter, fake: FakeBotAPI,
                                                          repo: SQLiteRepository) -> None:
    fake.add_chat(-600, "group", members=[GROUP_MEMBER])
    fake.add_chat(-100600, "supergroup")
    await repo.save_subscription(chat(-600), Schedule(), DUE)
    await repo.save_subscription(chat(GROUP), Schedule(), DUE)
    await repo.save_subscription(chat(PRIVATE), Schedule(), DUE)
    fake.inject_migration(-600, -100600, user_id=GROUP_MEMBER)
    fake.inject_bot_removed(GROUP, by_user=GROUP_OWNER)
    fake.inject_bot_removed(PRIVATE, by_user=PRIVATE)

    async def settled() -> bool:
        moved = await repo.get_subscription(chat(-100600))
        group, private = await repo.get_subscription(chat(GROUP)), await repo.get_subscription(chat(PRIVATE))
        return moved is not None and group is not None and private is not None and not (
            group.enabled or private.enabled)

    await eventually(settled)
    assert await repo.get_subscription(chat(-600)) is None
    group, private = await repo.get_subscription(chat(GROUP)), await repo.get_subscription(chat(PRIVATE))
    assert group is not None and group.disabled_reason == "the bot was removed from the chat"
    assert private is not None and private.disabled_reason == "the user blocked the bot"


async def test_the_digest_dispatcher_delivers_through_the_adapter(bot: TelegramAdapter, fake: FakeBotAPI,
                                                                  repo: SQLiteRepository) -> None:
    """The Messenger contract as the lead's delivery engine uses it: a due digest arrives once."""
    await ask(fake, PRIVATE, "/subscribe 07:30 UTC")
    subscription = await repo.get_subscription(chat(PRIVATE))
    assert subscription is not None and subscription.next_due_at is not None
    after_due = subscription.next_due_at + timedelta(minutes=1)
    dispatcher = DigestDispatcher(repo, {"telegram": bot}, clock=lambda: after_due)
    first, again = await dispatcher.tick(), await dispatcher.tick()
    assert (first.sent, again.sent) == (1, 0)
    digest = fake.sent_to(PRIVATE)[-1]
    assert digest.plain.startswith("News digest ·")
    assert "Dockworkers vote on the new harbour contract" in digest.plain
