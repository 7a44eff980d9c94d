"""Fixtures for the Telegram tests: the fake Bot API, stored summaries, the running adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.telegram import TelegramAdapter
from bot.core import Core
from bot.model import Article
from factories import draft
from fake_bot_api import NO_CAPS, FakeBotAPI
from storage.sqlite import SQLiteRepository
from telegram_harness import (BOT_USERNAME, GROUP, GROUP_ADMIN, GROUP_MEMBER, GROUP_OWNER, PRIVATE, TOKEN,
                               running)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI(TOKEN, username=BOT_USERNAME, caps=NO_CAPS)
    await api.start()
    api.add_chat(PRIVATE, "private", title="Ada")
    api.add_chat(GROUP, "supergroup", title="Newsroom", owner=GROUP_OWNER, admins=[GROUP_ADMIN],
                 members=[GROUP_MEMBER])
    yield api
    await api.stop()


@pytest.fixture
async def stored(repo: SQLiteRepository) -> list[Article]:
    """Four summaries from three outlets, newest first."""
    await repo.store_articles([draft(1, "Plainview Times"), draft(2, "Ledger Wire"), draft(3, "Harbour Courier"),
                               draft(4, "Plainview Times", title="Dockworkers vote on the new harbour contract")])
    return await repo.latest_articles(None, 10)


@pytest.fixture
async def bot(core: Core, fake: FakeBotAPI, stored: list[Article]) -> AsyncIterator[TelegramAdapter]:
    async with running(core, fake) as adapter:
        yield adapter
