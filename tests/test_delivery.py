"""The digest dispatcher with an injected clock: exactly once, catch-up, retries, fan-out pace."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from bot.core import Core
from bot.delivery import DeliveryPolicy, DigestDispatcher
from bot.digest import select
from bot.model import BiasRating, ChatRef, DeliveryStatus, DigestOptions, Schedule
from bot.outbox import Outcome, SendResult
from bot.pacing import RateBudget
from bot.reply import ItemLine, Reply
from bot.schedule import next_due
from storage.sqlite import SQLiteRepository
from tests.factories import OUTLETS, claim, draft

SEVEN = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Scripted:
    """A messenger whose outcomes the test decides; records every attempt."""

    platform = "console"

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.attempts: list[tuple[ChatRef, Reply]] = []
        self.resumed_after: list[tuple[str, ...]] = []

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        self.attempts.append((chat, reply))
        self.resumed_after.append(sent)
        outcome = self.outcomes.pop(0) if self.outcomes else Outcome.SENT
        return SendResult(outcome, ("m1",) if outcome is Outcome.SENT else (), reason=f"scripted {outcome}")


def titles(reply: Reply) -> list[str]:
    return [p.title for p in reply.parts if isinstance(p, ItemLine)]


async def subscribe(repo: SQLiteRepository, chat_id: str, times: tuple[str, ...] = ("07:00",),
                    zone: str = "UTC", after: datetime = SEVEN - timedelta(hours=1)) -> None:
    schedule = Schedule(times, frozenset(range(7)), zone)
    await repo.save_subscription(ChatRef("console", chat_id), schedule, next_due(schedule, after))


@pytest.fixture
async def stocked(repo: SQLiteRepository) -> SQLiteRepository:
    await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
    return repo


async def test_a_due_slot_is_sent_once_and_the_next_digest_has_only_news(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN), Scripted()
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    await subscribe(stocked, "a")
    assert (await dispatcher.tick()).sent == 1
    assert (await dispatcher.tick()).sent == 0  # same minute again: nothing
    assert len(titles(messenger.attempts[0][1])) == 6
    await stocked.store_articles([draft(50, "Ledger Wire", title="A later story")])
    clock.now += timedelta(days=1)
    await dispatcher.tick()
    assert titles(messenger.attempts[1][1]) == ["A later story"]
    ledger = await stocked.deliveries_for(1)
    assert [(d.slot_at, d.status) for d in ledger] == [(SEVEN, DeliveryStatus.SENT),
                                                       (SEVEN + timedelta(days=1), DeliveryStatus.SENT)]


async def test_two_dispatchers_racing_send_each_slot_once(stocked: SQLiteRepository, tmp_path: Path) -> None:
    for n in range(40):
        await subscribe(stocked, f"chat{n}")
    second_repo = await SQLiteRepository.open(tmp_path / "test.db")  # another connection, as another process
    try:
        first, second = Scripted(), Scripted()
        await asyncio.gather(DigestDispatcher(stocked, {"console": first}, Clock(SEVEN)).tick(),
                             DigestDispatcher(second_repo, {"console": second}, Clock(SEVEN)).tick())
    finally:
        await second_repo.close()
    sent = Counter(chat.chat_id for chat, _ in first.attempts + second.attempts)
    assert len(sent) == 40 and set(sent.values()) == {1}


async def test_empty_digests_are_skipped_unless_asked_for(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN), Scripted()
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    await subscribe(stocked, "a")
    await dispatcher.tick()
    clock.now += timedelta(days=1)
    report = await dispatcher.tick()
    assert (report.sent, report.skipped, len(messenger.attempts)) == (0, 1, 1)
    sub = await stocked.get_subscription(ChatRef("console", "a"))
    await stocked.set_options(sub.id, dataclasses.replace(sub.options, announce_empty=True))
    clock.now += timedelta(days=1)
    await dispatcher.tick()
    assert "Nothing new since the last digest." in messenger.attempts[-1][1].text


async def test_catch_up_inside_the_grace_window_sends_once(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN + timedelta(hours=5)), Scripted()  # the bot was down from 06:00 to 12:00
    await subscribe(stocked, "a")
    await DigestDispatcher(stocked, {"console": messenger}, clock).tick()
    assert len(messenger.attempts) == 1
    [delivery] = await stocked.deliveries_for(1)
    assert (delivery.slot_at, delivery.status) == (SEVEN, DeliveryStatus.SENT)
    assert (await stocked.get_subscription(ChatRef("console", "a"))).next_due_at == SEVEN + timedelta(days=1)


async def test_missed_slots_outside_the_grace_window_are_recorded_not_sent(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN + timedelta(hours=7)), Scripted()
    await subscribe(stocked, "a")
    report = await DigestDispatcher(stocked, {"console": messenger}, clock).tick()
    assert (report.sent, report.skipped, messenger.attempts) == (0, 1, [])
    [delivery] = await stocked.deliveries_for(1)
    assert delivery.status is DeliveryStatus.SKIPPED and "missed" in delivery.error


async def test_after_days_down_only_the_latest_slot_in_grace_is_sent(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN + timedelta(days=3, hours=1)), Scripted()
    await subscribe(stocked, "a", times=("07:00", "19:00"))
    await DigestDispatcher(stocked, {"console": messenger}, clock).tick()
    ledger = await stocked.deliveries_for(1)
    assert [d.status for d in ledger] == [DeliveryStatus.SKIPPED] * 6 + [DeliveryStatus.SENT]
    assert ledger[-1].slot_at == SEVEN + timedelta(days=3) and len(messenger.attempts) == 1


async def test_a_schedule_change_takes_effect_without_restart(stocked: SQLiteRepository, core: Core) -> None:
    clock, messenger = Clock(SEVEN - timedelta(hours=2)), Scripted()
    core.clock = clock
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    console = ConsoleAdapter(core, out=io.StringIO(), chat_id="a")
    await console.ask("/subscribe 07:00")
    await console.ask("/subscribe 09:00")
    clock.now = SEVEN
    await dispatcher.tick()
    assert messenger.attempts == []
    clock.now = SEVEN + timedelta(hours=2)
    await dispatcher.tick()
    assert len(messenger.attempts) == 1


async def test_a_schedule_restated_just_after_its_digest_fell_due_keeps_that_digest(
        stocked: SQLiteRepository, core: Core) -> None:
    """The dispatcher runs every 30 s: a /subscribe in between used to move the subscription past
    the slot due a moment ago, which was then neither sent nor recorded."""
    clock, messenger = Clock(SEVEN - timedelta(hours=1)), Scripted()
    core.clock = clock
    console = ConsoleAdapter(core, out=io.StringIO(), chat_id="a")
    await console.ask("/subscribe 07:00 UTC")
    clock.now = SEVEN + timedelta(seconds=10)
    answer = await console.ask("/subscribe 07:00 UTC daily")
    assert "Next digest: Sat 28 Nov 2026 07:00 UTC." in "\n".join(answer)
    clock.now = SEVEN + timedelta(seconds=30)
    await DigestDispatcher(stocked, {"console": messenger}, clock).tick()
    assert len(messenger.attempts) == 1


async def test_a_schedule_changed_just_after_its_digest_fell_due_follows_the_new_schedule(
        stocked: SQLiteRepository, core: Core) -> None:
    """Only the same schedule restated keeps the digest just due: Saturday's is not sent once the
    schedule says mon-fri (28 Nov 2026 is a Saturday)."""
    clock, messenger = Clock(SEVEN - timedelta(hours=1)), Scripted()
    core.clock = clock
    console = ConsoleAdapter(core, out=io.StringIO(), chat_id="a")
    await console.ask("/subscribe 07:00 UTC")
    clock.now = SEVEN + timedelta(seconds=10)
    answer = "\n".join(await console.ask("/subscribe 07:00 UTC mon-fri"))
    assert "Next digest: Mon 30 Nov 2026 07:00 UTC." in answer
    clock.now = SEVEN + timedelta(seconds=30)
    await DigestDispatcher(stocked, {"console": messenger}, clock).tick()
    assert messenger.attempts == []


async def test_retry_later_is_retried_after_a_delay(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN), Scripted(Outcome.RETRY_LATER, Outcome.RETRY_LATER)
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    await subscribe(stocked, "a")
    assert (await dispatcher.tick()).failed == 1
    assert (await dispatcher.tick()).sent == 0  # not before the retry time
    clock.now += timedelta(minutes=1)
    assert (await dispatcher.tick()).failed == 1
    clock.now += timedelta(minutes=5)
    assert (await dispatcher.tick()).sent == 1
    [delivery] = await stocked.deliveries_for(1)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    assert titles(messenger.attempts[0][1]) == titles(messenger.attempts[2][1])


class PartWay(Scripted):
    """The first attempt gets one message of two through, then the platform says "later"."""

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        self.resumed_after.append(sent)
        self.attempts.append((chat, reply))
        if len(self.resumed_after) == 1:
            return SendResult(Outcome.RETRY_LATER, ("m1",), "flood control")
        return SendResult(Outcome.SENT, (*sent, "m2") if sent else ("m3", "m4"))


async def test_a_retry_goes_on_after_the_messages_already_delivered(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN), PartWay()
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    await subscribe(stocked, "a")
    assert (await dispatcher.tick()).failed == 1
    clock.now += timedelta(minutes=1)
    assert (await dispatcher.tick()).sent == 1
    assert messenger.resumed_after == [(), ("m1",)]
    [delivery] = await stocked.deliveries_for(1)
    assert (delivery.status, delivery.message_ids) == (DeliveryStatus.SENT, ("m1", "m2"))


async def test_a_digest_changed_since_its_first_messages_is_sent_whole(stocked: SQLiteRepository) -> None:
    """Between attempts a story can merge or an article be corrected: the parts no longer line up,
    so nothing is skipped."""
    clock, messenger = Clock(SEVEN), PartWay()
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    await subscribe(stocked, "a")
    assert (await dispatcher.tick()).failed == 1
    [first_title, *_] = titles(messenger.attempts[0][1])
    [corrected] = [draft(n, name, title="A corrected headline") for n, name in enumerate(OUTLETS, 1)
                   if draft(n, name).title == first_title]
    assert (await stocked.store_articles([corrected])).updated == 1
    clock.now += timedelta(minutes=1)
    assert (await dispatcher.tick()).sent == 1
    assert messenger.resumed_after == [(), ()]
    assert "A corrected headline" in titles(messenger.attempts[1][1])
    [delivery] = await stocked.deliveries_for(1)
    assert delivery.message_ids == ("m3", "m4")


async def test_gone_disables_the_subscription_and_stops_sending(stocked: SQLiteRepository) -> None:
    clock, messenger = Clock(SEVEN), Scripted(Outcome.GONE)
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    await subscribe(stocked, "a")
    assert (await dispatcher.tick()).gone == 1
    sub = await stocked.get_subscription(ChatRef("console", "a"))
    assert not sub.enabled and sub.disabled_reason == "scripted gone"
    for _ in range(3):
        clock.now += timedelta(days=1)
        await dispatcher.tick()
    assert len(messenger.attempts) == 1


async def test_gone_ends_every_subscription_where_the_messenger_says_the_bot_may_not_post(
        stocked: SQLiteRepository) -> None:
    """A topic's digest can find the whole chat gone (the bot was kicked): the chat's other
    subscriptions end too, not only the one being sent."""
    class WholeChatGone(Scripted):
        async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
            await super().send(chat, reply, sent)
            await asyncio.sleep(0.01)  # as a platform's answer takes time: the other topic's send is waiting
            return SendResult(Outcome.GONE, reason="kicked", gone=dataclasses.replace(chat, thread_id=None))

    schedule = Schedule(("07:00",), frozenset(range(7)), "UTC")
    topic, other_topic = ChatRef("console", "g", "7"), ChatRef("console", "g", "8")
    for where in (topic, other_topic):
        await stocked.save_subscription(where, schedule, next_due(schedule, SEVEN - timedelta(hours=1)))
    messenger = WholeChatGone()
    report = await DigestDispatcher(stocked, {"console": messenger}, Clock(SEVEN)).tick()
    assert report.gone == 2 and len(messenger.attempts) == 1  # the other topic is not tried again
    for where in (topic, other_topic):
        subscription = await stocked.get_subscription(where)
        assert subscription is not None and (subscription.enabled, subscription.disabled_reason) == (False, "kicked")


async def test_a_chat_that_moved_and_is_gone_is_not_asked_again_under_its_old_id(stocked: SQLiteRepository) -> None:
    """A Telegram group that became a supergroup on the way, and then refused: its other digests,
    planned under the old id, are not sent there again in the same tick."""
    class MovedAndGone(Scripted):
        async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
            await super().send(chat, reply, sent)
            await asyncio.sleep(0.01)
            return SendResult(Outcome.GONE, reason="kicked", gone=ChatRef("console", "new"))

    schedule = Schedule(("07:00",), frozenset(range(7)), "UTC")
    for where in (ChatRef("console", "old", "7"), ChatRef("console", "old", "8")):
        await stocked.save_subscription(where, schedule, next_due(schedule, SEVEN - timedelta(hours=1)))
    messenger = MovedAndGone()
    report = await DigestDispatcher(stocked, {"console": messenger}, Clock(SEVEN)).tick()
    assert report.gone == 2 and len(messenger.attempts) == 1


async def test_a_gone_topic_ends_only_its_own_subscription(stocked: SQLiteRepository) -> None:
    class TopicGone(Scripted):
        async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
            await super().send(chat, reply, sent)
            await asyncio.sleep(0.01)
            if chat.thread_id == "8":
                return SendResult(Outcome.GONE, reason="topic deleted", gone=chat)
            return SendResult(Outcome.SENT, ("m1",))

    schedule = Schedule(("07:00",), frozenset(range(7)), "UTC")
    chats = [ChatRef("console", "g", "8"), ChatRef("console", "g", "7"), ChatRef("console", "g")]
    for where in chats:
        await stocked.save_subscription(where, schedule, next_due(schedule, SEVEN - timedelta(hours=1)))
    messenger = TopicGone()
    report = await DigestDispatcher(stocked, {"console": messenger}, Clock(SEVEN)).tick()
    assert (report.gone, report.sent) == (1, 2) and len(messenger.attempts) == 3
    assert [(await stocked.get_subscription(where)).enabled for where in chats] == [False, True, True]


async def test_a_forum_with_many_digests_due_does_not_hold_up_other_chats(stocked: SQLiteRepository) -> None:
    """A chat's digests go one at a time, waiting for their turn without taking a sending slot."""
    class Slow(Scripted):
        async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
            result = await super().send(chat, reply, sent)
            await asyncio.sleep(0.01)
            return result

    schedule = Schedule(("07:00",), frozenset(range(7)), "UTC")
    chats = [*(ChatRef("console", "forum", str(topic)) for topic in range(5)), ChatRef("console", "other")]
    for where in chats:
        await stocked.save_subscription(where, schedule, next_due(schedule, SEVEN - timedelta(hours=1)))
    messenger = Slow()
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, Clock(SEVEN), DeliveryPolicy(concurrency=2))
    report = await dispatcher.tick()
    assert report.sent == 6
    assert [chat.chat_id for chat, _ in messenger.attempts].index("other") == 1  # right after the forum's first


async def test_a_slot_left_sending_by_a_dead_process_is_resent_with_the_same_articles(
        stocked: SQLiteRepository) -> None:
    await subscribe(stocked, "a")
    sub = await stocked.get_subscription(ChatRef("console", "a"))
    claimed = await claim(stocked, sub, SEVEN, SEVEN + timedelta(days=1), [2, 4], 6, SEVEN)  # then "died"
    assert claimed is not None
    await stocked.store_articles([draft(60, title="Arrived after the claim")])
    clock, messenger = Clock(SEVEN + timedelta(minutes=1)), Scripted()
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock, DeliveryPolicy(lease=timedelta(minutes=2)))
    await dispatcher.tick()
    assert messenger.attempts == []  # still within the lease: maybe the other process is alive
    clock.now = SEVEN + timedelta(minutes=3)
    await dispatcher.tick()
    assert titles(messenger.attempts[0][1]) == [draft(2).title, draft(4).title]
    [delivery] = await stocked.deliveries_for(sub.id)
    assert delivery.status is DeliveryStatus.SENT


async def test_a_failing_subscription_does_not_stop_the_others(stocked: SQLiteRepository) -> None:
    class Flaky(Scripted):
        async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
            if chat.chat_id == "bad":
                raise RuntimeError("boom")
            return await super().send(chat, reply, sent)

    messenger = Flaky()
    for chat in ("bad", "good1", "good2"):
        await subscribe(stocked, chat)
    report = await DigestDispatcher(stocked, {"console": messenger}, Clock(SEVEN)).tick()
    assert (report.sent, report.failed) == (2, 1)


def test_selection_filters_caps_and_balance() -> None:
    from bot.model import Article, Source

    ratings = [BiasRating.LEFT] * 6 + [BiasRating.CENTER] * 2 + [BiasRating.RIGHT] * 2
    sources = {i: Source(i, f"S{i}", bias=r) for i, r in enumerate(ratings, 1)}
    # the 30 newest come from left outlets only: a day where one side dominates the news
    articles = [Article(i, (i % 6) + 1 if i > 30 else (i % 10) + 1, f"Story {i} about {'grain' if i % 3 else 'war'}",
                        "lead", (), None, None, False, str(i), SEVEN) for i in range(60, 0, -1)]
    plain = select(articles, sources, DigestOptions(items=8, per_source=1))
    assert len(plain) == 8 and len({a.source_id for a in plain}) == 8  # six left outlets, then older ones
    assert [a.id for a in plain] == sorted((a.id for a in plain), reverse=True)
    war = select(articles, sources, DigestOptions(items=25, per_source=25, include=("WAR",)))
    assert war and all(" war" in a.title for a in war)
    no_war = select(articles, sources, DigestOptions(items=25, per_source=25, exclude=("war",)))
    assert no_war and all("war" not in a.title for a in no_war)
    assert not select(articles, sources, DigestOptions(include=("wa",)))  # whole words only
    only = select(articles, sources, DigestOptions(items=25, per_source=25, sources=(3,)))
    assert {a.source_id for a in only} == {3}
    balanced = select(articles, sources, DigestOptions(items=6, per_source=2, balanced=True))
    assert Counter(sources[a.source_id].bias for a in balanced) == {BiasRating.LEFT: 2, BiasRating.CENTER: 2,
                                                                    BiasRating.RIGHT: 2}
    unbalanced = select(articles, sources, DigestOptions(items=6, per_source=2))
    assert Counter(sources[a.source_id].bias for a in unbalanced) == {BiasRating.LEFT: 6}


async def test_a_thousand_due_chats_fan_out_within_the_rate_budget(repo: SQLiteRepository, core: Core) -> None:
    """Measured on the budget's own clock: 30 msg/s overall, 1 msg/s per chat, no bursts."""
    await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
    for n in range(1000):
        await subscribe(repo, f"chat{n}")
    virtual = [0.0]

    async def fake_sleep(delay: float) -> None:
        virtual[0] = max(virtual[0], virtual[0] + delay)
        await asyncio.sleep(0)

    # overlapping sleepers move this clock to the latest wake-up, so no turn may count as late
    budget = RateBudget(30, per_chat_interval=1.0, clock=lambda: virtual[0], sleep=fake_sleep,
                        max_late=float("inf"))
    console = ConsoleAdapter(core, out=io.StringIO(), budget=budget)
    report = await DigestDispatcher(repo, {"console": console}, Clock(SEVEN)).tick()
    assert report.sent == 1000
    times = sorted(at for at, _, _ in console.sent)
    assert len(times) == 1000
    for i in range(len(times) - 30):  # any 31 consecutive sends span at least one second
        assert times[i + 30] - times[i] >= 1.0 - 1e-9
    duration = times[-1] - times[0]
    assert 1000 / 30 * 0.95 <= duration + 1 / 30 <= 1000 / 30 * 1.05  # as fast as the budget allows


async def test_chats_with_their_own_sources_get_their_own_digest(stocked: SQLiteRepository) -> None:
    await stocked.store_articles([draft(90, "Local Gazette", title="Only for the harbour chat")],
                                 scope="console:harbour")
    for chat in ("harbour", "a", "b"):
        await subscribe(stocked, chat)
    messenger = Scripted()
    await DigestDispatcher(stocked, {"console": messenger}, Clock(SEVEN)).tick()
    got = {chat.chat_id: titles(reply) for chat, reply in messenger.attempts}
    assert "Only for the harbour chat" in got["harbour"]
    assert "Only for the harbour chat" not in got["a"] and got["a"] == got["b"]


async def test_a_turn_woken_too_late_is_taken_again_once() -> None:
    now = [0.0]
    overshoot = [0.05]  # the event loop wakes the sleeper 50 ms late

    async def late_sleep(delay: float) -> None:
        now[0] += delay + overshoot[0]

    budget = RateBudget(100, clock=lambda: now[0], sleep=late_sleep, max_late=0.02)
    assert await budget.wait("a") == 0.0  # no sleep, on time
    assert await budget.wait("a") == pytest.approx(0.06)  # the 0.01 turn woke at 0.06: retaken at 0.06
    overshoot[0] = 0.5
    assert await budget.wait("a") == pytest.approx(0.57)  # 0.07 woke at 0.57: retaken once, at once


async def test_a_retry_due_while_the_bot_was_down_is_not_sent_days_later(stocked: SQLiteRepository) -> None:
    """The retry would come after the catch-up window, and beside the day's own digest with the same
    stories (the cursor only moves with a sent digest): it is recorded as missed instead."""
    clock, messenger = Clock(SEVEN), Scripted(Outcome.RETRY_LATER)
    await subscribe(stocked, "a")
    assert (await DigestDispatcher(stocked, {"console": messenger}, clock).tick()).failed == 1
    clock.now = SEVEN + timedelta(days=2, minutes=5)  # started again after two days
    report = await DigestDispatcher(stocked, {"console": messenger}, clock).tick()
    assert [reply.parts[0].text for _, reply in messenger.attempts[1:]] == ["News digest · Mon 30 Nov 07:00"]
    assert len(titles(messenger.attempts[1][1])) == 6 and report.sent == 1  # Saturday's stories, once
    ledger = {d.slot_at: (d.status, d.error) for d in await stocked.deliveries_for(1)}
    assert ledger[SEVEN] == (DeliveryStatus.SKIPPED, "missed: the bot was down")


async def test_a_digest_cut_short_by_a_stop_is_not_sent_days_later(stocked: SQLiteRepository) -> None:
    await subscribe(stocked, "a")
    [subscription] = await stocked.due_subscriptions(SEVEN, 10, ("console",))
    assert await claim(stocked, subscription, SEVEN, SEVEN + timedelta(days=1), [1, 2], 2, SEVEN) is not None
    await stocked.release_sending(SEVEN + timedelta(seconds=20), "interrupted")  # the stop, as run_bot does
    clock, messenger = Clock(SEVEN + timedelta(days=3, minutes=5)), Scripted()
    await DigestDispatcher(stocked, {"console": messenger}, clock).tick()
    assert [reply.parts[0].text for _, reply in messenger.attempts] == ["News digest · Tue 01 Dec 07:00"]


async def test_a_slot_due_while_an_older_one_waits_for_its_retry_sends_each_story_once(
        stocked: SQLiteRepository) -> None:
    """07:00 meets a long flood wait; at 07:10 the next digest is due with the same stories (the
    cursor has not moved). It goes out once, with them, and the 07:00 retry is dropped."""
    clock = Clock(SEVEN)
    messenger = Scripted(Outcome.RETRY_LATER, Outcome.RETRY_LATER, Outcome.RETRY_LATER)
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock)
    await subscribe(stocked, "a", times=("07:00", "07:10"))
    for minute in range(30):
        clock.now = SEVEN + timedelta(minutes=minute)
        await dispatcher.tick()
    delivered = [titles(reply) for _, reply in messenger.attempts[3:]]
    assert len(delivered) == 1 and len(delivered[0]) == 6
    ledger = {d.slot_at.minute: (d.status, d.error) for d in await stocked.deliveries_for(1)}
    assert ledger == {0: (DeliveryStatus.SKIPPED, "missed: superseded by a later slot"),
                      10: (DeliveryStatus.SENT, None)}


async def test_a_slot_is_not_planned_in_the_tick_that_resends_an_older_one(stocked: SQLiteRepository) -> None:
    """The resent digest moves the cursor when it is sent; the next one is planned after that."""
    clock = Clock(SEVEN)
    messenger = Scripted(Outcome.RETRY_LATER)
    dispatcher = DigestDispatcher(stocked, {"console": messenger}, clock,
                                  DeliveryPolicy(retry_delays=(timedelta(minutes=10),)))
    await subscribe(stocked, "a", times=("07:00", "07:10"))
    await dispatcher.tick()  # 07:00: retry at 07:10, when the next slot is due as well
    clock.now = SEVEN + timedelta(minutes=10)
    await dispatcher.tick()
    assert [(reply.parts[0].text[-5:], len(titles(reply))) for _, reply in messenger.attempts] == \
        [("07:00", 6), ("07:00", 6)]
    clock.now += timedelta(seconds=30)
    await dispatcher.tick()
    assert len(messenger.attempts) == 2  # the 07:10 digest would only have repeated them
    ledger = {d.slot_at.minute: (d.status, d.error) for d in await stocked.deliveries_for(1)}
    assert ledger == {0: (DeliveryStatus.SENT, None), 10: (DeliveryStatus.SKIPPED, "nothing new")}


async def test_cancelling_a_tick_stops_the_sends_it_started(stocked: SQLiteRepository) -> None:
    """The shutdown cancels the digest job at its deadline: sends must stop then, not run on past it
    (their slots stay claimed, and the stop releases them for a retry at the next start)."""
    started = asyncio.Event()

    class Slow(Scripted):
        finished = 0

        async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
            started.set()
            await asyncio.sleep(30)  # a send paced far into the future
            self.finished += 1
            return await super().send(chat, reply, sent)

    for n in range(12):
        await subscribe(stocked, f"c{n}")
    messenger = Slow()
    policy = DeliveryPolicy(batch=2, concurrency=1)  # the tick waits to queue more, as in a big fan-out
    tick = asyncio.create_task(DigestDispatcher(stocked, {"console": messenger}, Clock(SEVEN), policy).tick())
    await started.wait()
    tick.cancel()
    with pytest.raises(asyncio.CancelledError):
        await tick
    assert messenger.finished == 0
    statuses = Counter([d.status for n in range(1, 13) for d in await stocked.deliveries_for(n)])
    assert statuses[DeliveryStatus.SENDING] >= 1 and statuses[DeliveryStatus.SENT] == 0
