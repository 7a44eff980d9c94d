"""Fixtures for the Telegram tests: the fake Bot API, stored summaries, the running adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.telegram import TelegramAdapter
from bot.core import Core
from bot.model import Article
from factories import draft
from fake_bot_api import FakeBotAPI
from storage.sqlite import SQLiteRepository
from telegram_harness import running, serving


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """No flood caps: the tests that are about pacing start their own."""
    async with serving() as api:
        yield api


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
