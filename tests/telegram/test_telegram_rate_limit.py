"""The message rate limiter on its own, in virtual time: windows, retries, memory."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from adapters.telegram.rate_limit import KEEP_IDLE_CHATS, MessageRateLimiter, SlidingWindow
from adapters.telegram.settings import RateSettings
from adapters.telegram.turns import ChatTurns
from telegram_harness import ManualClock

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")


class Recorder:
    """Stands in for the HTTP call: notes when each request went out, can answer 429 first."""

    def __init__(self, clock: ManualClock, refusals: int = 0, retry_after: int = 5) -> None:
        self.clock = clock
        self.refusals = refusals
        self.retry_after = retry_after
        self.sent: list[tuple[str, float]] = []
        self.refused = 0

    async def send(self, limiter: MessageRateLimiter, chat_id: Any, endpoint: str = "sendMessage") -> Any:
        async def call() -> bool:
            if self.refused < self.refusals:
                self.refused += 1
                raise RetryAfter(self.retry_after)
            self.sent.append((str(chat_id), self.clock.now()))
            return True

        return await limiter.process_request(call, (), {}, endpoint, {"chat_id": chat_id}, None)


def most_in_any_window(times: list[float], period: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + period) for i, start in enumerate(times))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


async def test_one_message_a_second_per_chat(clock: ManualClock) -> None:
    limiter, calls = MessageRateLimiter(RateSettings(), clock), Recorder(clock)
    for _ in range(5):
        await calls.send(limiter, 42)
    times = [t for _, t in calls.sent]
    assert [round(b - a, 6) for a, b in zip(times, times[1:])] == [1.0] * 4


async def test_twenty_a_minute_per_group(clock: ManualClock) -> None:
    limiter = MessageRateLimiter(RateSettings(per_chat_per_second=1000), clock)
    calls = Recorder(clock)
    for _ in range(25):
        await calls.send(limiter, -100123)
    times = [t for _, t in calls.sent]
    assert times[19] - times[0] < 1
    assert times[20] - times[0] >= 60
    assert most_in_any_window(times, 60.0) == 20


async def test_the_overall_cap_holds_across_chats(clock: ManualClock) -> None:
    limiter, calls = MessageRateLimiter(RateSettings(), clock), Recorder(clock)
    await asyncio.gather(*(calls.send(limiter, chat_id) for chat_id in range(1, 101)))
    times = [t for _, t in calls.sent]
    assert len(times) == 100
    assert most_in_any_window(times, 1.0) <= 30


async def test_other_requests_are_not_paced(clock: ManualClock) -> None:
    limiter, calls = MessageRateLimiter(RateSettings(), clock), Recorder(clock)
    for _ in range(50):
        await calls.send(limiter, -100123, endpoint="getChatMember")
    assert {t for _, t in calls.sent} == {clock.now()}


async def test_a_429_waits_retry_after_and_resends(clock: ManualClock) -> None:
    limiter = MessageRateLimiter(RateSettings(), clock)
    calls = Recorder(clock, refusals=2, retry_after=5)
    start = clock.now()
    assert await calls.send(limiter, 42) is True
    assert calls.refused == 2
    assert calls.sent == [("42", start + 10)]


async def test_429s_beyond_the_retry_budget_or_too_long_are_passed_on(clock: ManualClock) -> None:
    limiter = MessageRateLimiter(RateSettings(max_retries=1), clock)
    stubborn = Recorder(clock, refusals=5)
    with pytest.raises(RetryAfter):
        await stubborn.send(limiter, 42)
    assert stubborn.refused == 2
    long_wait = Recorder(clock, refusals=1, retry_after=600)
    before = clock.now()
    with pytest.raises(RetryAfter):
        await long_wait.send(limiter, 43)
    assert long_wait.refused == 1 and clock.now() - before < 1  # the 600 s wait was not slept


async def test_idle_chats_are_forgotten(clock: ManualClock) -> None:
    limiter = MessageRateLimiter(RateSettings(overall_per_second=100_000), clock)
    calls = Recorder(clock)
    await asyncio.gather(*(calls.send(limiter, chat_id) for chat_id in range(1, KEEP_IDLE_CHATS + 500)))
    assert limiter.tracked_chats == KEEP_IDLE_CHATS + 499  # all sent to within the last second
    clock.advance(2)
    await calls.send(limiter, 99_999)
    assert limiter.tracked_chats == KEEP_IDLE_CHATS


def test_slow_rates_become_whole_windows() -> None:
    window = SlidingWindow.for_rate(0.5, 1.0)
    assert (window.limit, window.period) == (1, 2.0)
    with pytest.raises(ValueError):
        RateSettings(per_chat_per_second=0)


async def test_chat_turns_keep_order_and_clean_up() -> None:
    turns, order = ChatTurns(), []

    async def handle(n: int) -> None:
        async with turns.turn(7):
            await asyncio.sleep(0.01 * (3 - n))  # the first is the slowest
            order.append(n)

    await asyncio.gather(*(handle(n) for n in range(3)))
    assert order == [0, 1, 2]
    assert len(turns) == 0
