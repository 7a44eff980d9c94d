"""Fixtures: a fake Discord, stored summaries, and the real DiscordAdapter started against both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from factories import draft
from fake_discord import FakeDiscord

from adapters.discord import DiscordAdapter
from bot.core import Core
from storage.sqlite import SQLiteRepository

TOKEN = "fake-token-never-logged"

StartBot = Callable[..., Awaitable[DiscordAdapter]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def stored(repo: SQLiteRepository) -> None:
    """Five summaries from three outlets, the newest being #5."""
    await repo.store_articles([draft(1, "Harbour Courier"), draft(2, "Ledger Wire"), draft(3, "Plainview Times"),
                               draft(4, "Harbour Courier"), draft(5, "Ledger Wire")])


@pytest.fixture
async def start_bot(fake: FakeDiscord) -> AsyncIterator[StartBot]:
    """Start a DiscordAdapter on the fake, with test-sized timings; stopped after the test."""
    started: list[DiscordAdapter] = []

    async def start(core: Core, **options: object) -> DiscordAdapter:
        settings = {"api_base_url": fake.base_url, "guild_ready_timeout": 0.05, "retry_delay": 0.01, **options}
        adapter = DiscordAdapter(core, TOKEN, **settings)  # type: ignore[arg-type]
        await adapter.start()
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await adapter.stop()


@pytest.fixture
async def bot(start_bot: StartBot, core: Core, stored: None) -> DiscordAdapter:
    return await start_bot(core)
