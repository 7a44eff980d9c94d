"""Starting the real TelegramAdapter against the fake Bot API, and talking to it as a user would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from adapters.telegram import RateSettings, TelegramAdapter
from bot.core import Core
from fake_bot_api import NO_CAPS, Caps, FakeBotAPI, SentMessage

# Shaped like a real token (digits, colon, 35 characters) so log redaction is really exercised.
TOKEN = "7000000001:AAFakeTokenForNewsdigestTests_01234"
BOT_USERNAME = "newsdigest_bot"
PRIVATE = 42  # a private chat's id is its user's id
GROUP = -100200
GROUP_OWNER, GROUP_ADMIN, GROUP_MEMBER = 500, 501, 502  # telegram:1 is an operator: kept out of these
# Functional tests are not about pacing: caps high enough never to wait.
FAST = RateSettings(overall_per_second=100_000, per_chat_per_second=100_000, per_group_per_minute=1_000_000,
                    backoff=0.01)


class ManualClock:
    """Virtual time for the adapter's pacing and caches and the fake's flood caps.

    Sleeping moves the clock instead of waiting; sleepers that overlap move it to the latest
    of their wake-up times, never back.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        target = self._now + seconds
        await asyncio.sleep(0)
        self._now = max(self._now, target)

    def advance(self, seconds: float) -> None:
        self._now += seconds


@asynccontextmanager
async def serving(caps: Caps = NO_CAPS, clock: Callable[[], float] | None = None) -> AsyncIterator[FakeBotAPI]:
    """The fake Bot API with a private chat and a supergroup (owner, one admin, one member)."""
    api = FakeBotAPI(TOKEN, username=BOT_USERNAME, caps=caps, **({"clock": clock} if clock else {}))
    await api.start()
    api.add_chat(PRIVATE, "private", title="Ada")
    api.add_chat(GROUP, "supergroup", title="Newsroom", owner=GROUP_OWNER, admins=[GROUP_ADMIN],
                 members=[GROUP_MEMBER])
    try:
        yield api
    finally:
        await api.stop()


@asynccontextmanager
async def running(core: Core, fake: FakeBotAPI, **options: Any) -> AsyncIterator[TelegramAdapter]:
    """The adapter, started against the fake (long polling) and stopped afterwards."""
    adapter = TelegramAdapter(core, TOKEN, base_url=fake.base_url, **{"rates": FAST, **options})
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


async def ask(fake: FakeBotAPI, chat_id: int, text: str, *, expect: int = 1, **sender: Any) -> list[SentMessage]:
    """Type `text` in a chat and return the bot's next `expect` messages there."""
    before = len(fake.sent_to(chat_id))
    fake.inject_text(chat_id, text, **sender)
    return (await fake.wait_for_messages(before + expect, chat_id))[before:]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait for a state change an update causes without sending anything."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("the expected change did not happen in time")
        await asyncio.sleep(0.01)
