"""A global pace for posting to channels, so a digest fan-out stays under Discord's ~50 requests/s.

discord.py already honours each route's bucket and waits out 429s, but it only learns about the
global limit after hitting it; this spaces our own requests evenly before they are made.
"""

from __future__ import annotations

import asyncio
import time

DEFAULT_REQUESTS_PER_SECOND = 45.0  # a margin under Discord's global 50/s


class Pacer:
    """Hands out evenly spaced start times, first come first served; O(1) per request."""

    def __init__(self, per_second: float = DEFAULT_REQUESTS_PER_SECOND) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        """Return when this request's slot has come; each call reserves the next slot."""
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)
