"""A send-rate budget: an overall rate and a minimum interval per chat.

Each send reserves its time slot up front, so many concurrent senders share the budget exactly
(no bursts, no 429 storms) and a fan-out finishes as fast as the platform allows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

PRUNE_AT = 50_000  # chat entries kept before the stale ones are dropped


class RateBudget:
    def __init__(self, per_second: float, per_chat_interval: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep, max_late: float = 0.02) -> None:
        self.interval = 1.0 / per_second
        self.max_late = max(max_late, self.interval)
        self.per_chat_interval = per_chat_interval
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._chat_next: dict[str, float] = {}

    def reserve(self, chat_key: str) -> float:
        """The earliest time this chat may be sent to, taken from the budget."""
        now = self.clock()
        at = max(now, self._next, self._chat_next.get(chat_key, 0.0))
        self._next = at + self.interval
        if self.per_chat_interval:
            self._chat_next[chat_key] = at + self.per_chat_interval
            if len(self._chat_next) > PRUNE_AT:
                self._chat_next = {k: t for k, t in self._chat_next.items() if t > now}
        return at

    async def wait(self, chat_key: str) -> float:
        """Sleep until this send's turn. A turn the event loop woke up for too late is given up
        once and a new one taken: going late would bunch this send with the ones behind it, and
        the platform counts arrivals, so a stall would come out as a burst over the cap."""
        for attempt in range(2):  # a loop that is late every time still sends, on the second turn
            at = self.reserve(chat_key)
            delay = at - self.clock()
            if delay > 0:
                await self.sleep(delay)
            if attempt or self.clock() - at <= self.max_late:
                break
        return at
