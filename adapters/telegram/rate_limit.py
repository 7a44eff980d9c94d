"""Pacing every message the bot sends, so that Telegram rarely has to answer 429.

Three limits apply at once: about 30 messages a second overall, one a second per chat and 20 a
minute per group or channel. Each is kept as a sliding window (at most N messages in any
window of the period), checked before a message goes out.

Why not python-telegram-bot's AIORateLimiter: its leaky buckets start full, so a broadcast gets
nearly twice the cap through in the first window (measured: 39 of a 20-per-window limit); it
counts every request naming a chat (getChatMember, getChat) against the message budgets; it has
no per-chat limit; and one 429 anywhere pauses every chat. This limiter is PTB's extension point
(BaseRateLimiter) with those four things done differently:

- only message-sending endpoints are paced; other calls go straight through;
- one lock per chat keeps that chat's messages in order and spaced, while other chats proceed;
- a chat's windows record when the call *returned*, which is no earlier than when Telegram
  received it, so network jitter cannot squeeze two messages closer than the limit;
- the overall limit is a steady pace (bot.pacing.RateBudget: one message every 1/rate seconds,
  3% under the cap, each turn reserved ahead so a late wake-up does not slow the next, and a turn
  the event loop woke too late for taken again), not a window that lets a whole second's worth
  out at once: a burst of a hundred requests leaves a busy client over many milliseconds, its
  tail meets the next burst at Telegram, and a fan-out ends in 429s (bench.fanout, 10,000 chats
  at a 150/s cap: 255 429s with bursts, 0 to 2 with the steady pace);
- a 429 (RetryAfter) makes only that chat wait retry_after and resend the same message, up to
  `max_retries` times; a wait longer than `max_retry_after` is passed on to the caller.

Idle chats are forgotten once their windows have expired, so memory follows the chats that
were sent to in the last minute.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from adapters.telegram.clock import Clock, SystemClock
from adapters.telegram.settings import RateSettings
from bot.pacing import RateBudget

log = logging.getLogger(__name__)

MESSAGE_ENDPOINTS = ("send", "copyMessage", "forwardMessage")  # name prefixes; sendChatAction counts too
OVERALL_MARGIN = 0.03  # the overall pace runs this much under the cap, so latency jitter stays within it
OVERALL = "*"  # the one key the overall pace is kept under
KEEP_IDLE_CHATS = 1000  # idle chats remembered before the oldest are dropped


def retry_after_seconds(exc: RetryAfter) -> float:
    """The flood wait in seconds, whichever type this PTB version hands out (int or timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class SlidingWindow:
    """At most `limit` events in any `period` seconds: remembers the last `limit` event times."""

    __slots__ = ("limit", "period", "_times")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque(maxlen=limit)

    @classmethod
    def for_rate(cls, rate: float, period: float, margin: float = 0.0) -> SlidingWindow:
        """`rate` events per `period` as a whole-number window: 0.5 a second becomes 1 per 2 s."""
        if rate >= 1:
            return cls(int(rate), period + margin)
        return cls(1, period / rate + margin)

    def wait(self, now: float) -> float:
        """Seconds until one more event fits."""
        if len(self._times) < self.limit:
            return 0.0
        return max(0.0, self._times[0] + self.period - now)

    def record(self, now: float) -> None:
        self._times.append(now)

    def idle(self, now: float) -> bool:
        return not self._times or self._times[-1] + self.period <= now


class ChatPace:
    """One chat's turn-taking: a lock for order, its own windows for spacing."""

    __slots__ = ("lock", "windows")

    def __init__(self, windows: tuple[SlidingWindow, ...]) -> None:
        self.lock = asyncio.Lock()
        self.windows = windows

    def wait(self, now: float) -> float:
        return max(w.wait(now) for w in self.windows)

    def record(self, now: float) -> None:
        for window in self.windows:
            window.record(now)

    def idle(self, now: float) -> bool:
        return not self.lock.locked() and all(w.idle(now) for w in self.windows)


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids; channels may also be named @name."""
    return chat_id.startswith(("-", "@"))


class MessageRateLimiter(BaseRateLimiter[None]):
    def __init__(self, rates: RateSettings = RateSettings(), clock: Clock | None = None) -> None:
        self._rates = rates
        self._clock = clock or SystemClock()
        self._overall = RateBudget(rates.overall_per_second / (1.0 + OVERALL_MARGIN), clock=self._clock.now,
                                   sleep=self._clock.sleep)
        self._chats: OrderedDict[str, ChatPace] = OrderedDict()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def tracked_chats(self) -> int:
        """How many chats' pacing is held in memory."""
        return len(self._chats)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if chat_id is None or not endpoint.startswith(MESSAGE_ENDPOINTS):
            return await callback(*args, **kwargs)
        pace = self._pace(str(chat_id))
        retries = 0
        async with pace.lock:
            while True:
                await self._wait_for_turn(pace)
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    wait = retry_after_seconds(exc)
                    if retries >= self._rates.max_retries or wait > self._rates.max_retry_after:
                        raise
                finally:
                    pace.record(self._clock.now())
                retries += 1
                log.info("Telegram asked to wait %.0f s before sending to %s again", wait, chat_id)
                await self._clock.sleep(wait)

    async def _wait_for_turn(self, pace: ChatPace) -> None:
        """The chat's own windows first (holding its lock), then a slot in the shared window."""
        while (delay := pace.wait(self._clock.now())) > 0:
            await self._clock.sleep(delay)
        await self._overall.wait(OVERALL)

    def _pace(self, chat_id: str) -> ChatPace:
        pace = self._chats.get(chat_id)
        if pace is not None:
            self._chats.move_to_end(chat_id)
            return pace
        windows = [SlidingWindow.for_rate(self._rates.per_chat_per_second, 1.0)]
        if is_group(chat_id):
            windows.append(SlidingWindow.for_rate(self._rates.per_group_per_minute, 60.0))
        pace = self._chats[chat_id] = ChatPace(tuple(windows))
        self._forget_idle()
        return pace

    def _forget_idle(self) -> None:
        """Drop the least recently used chats while there are too many and they are idle."""
        now = self._clock.now()
        while len(self._chats) > KEEP_IDLE_CHATS:
            chat_id, oldest = next(iter(self._chats.items()))
            if not oldest.idle(now):
                break
            del self._chats[chat_id]
