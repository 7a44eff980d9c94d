"""`newsdigest run`: the composition root. One process, one event loop, every configured adapter.

It opens the database, builds the core, starts each platform adapter whose token is set, and
lets APScheduler wake two periodic jobs: the digest dispatcher and the feed poller. What is due
lives in the database, so these two jobs serve any number of chats and survive restarts.

Shutdown (SIGTERM or SIGINT): no new jobs start, running ones get a while to finish (a delivery
cut short stays 'sending' in the ledger and is resumed after its lease), then the adapters stop
and the database closes. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core, utc_now
from bot.delivery import DeliveryPolicy, DigestDispatcher
from bot.ingest.fetch import FeedFetcher
from bot.ingest.poller import FeedPoller
from bot.outbox import Messenger
from storage.sqlite import SQLiteRepository

log = logging.getLogger(__name__)

DISPATCH_EVERY = 30  # seconds: a digest is at most this late
POLL_EVERY = 60  # seconds: how often due feeds are looked for (each feed has its own interval)
DRAIN_SECONDS = 20.0  # how long running jobs may finish after a stop signal


class Adapter(Messenger, Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_adapters(core: Core, settings: Settings) -> list[Adapter]:
    """One adapter per configured token; the platform libraries are imported only when used."""
    adapters: list[Adapter] = []
    if settings.telegram_bot_token is not None:
        from adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(core, settings.telegram_bot_token.get_secret_value(),
                                        base_url=settings.telegram_api_base_url))
    if settings.discord_bot_token is not None:
        from adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(core, settings.discord_bot_token.get_secret_value(),
                                       api_base_url=settings.discord_api_base_url,
                                       sync_guild=settings.discord_sync_guild))
    return adapters


class Jobs:
    """Periodic jobs whose running instances can be waited for at shutdown."""

    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.running: set[asyncio.Task[object]] = set()

    def every(self, seconds: int, job: Callable[[], Awaitable[object]], name: str) -> None:
        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)  # type: ignore[arg-type]
            try:
                await job()
            except Exception:
                log.exception("the %s job failed; it runs again in %d s", name, seconds)
            finally:
                self.running.discard(task)  # type: ignore[arg-type]

        self.scheduler.add_job(tracked, "interval", seconds=seconds, id=name, name=name, max_instances=1,
                               coalesce=True, misfire_grace_time=seconds, next_run_time=utc_now())

    def start(self) -> None:
        self.scheduler.start()

    async def drain(self, seconds: float) -> None:
        self.scheduler.shutdown(wait=False)
        if self.running:
            log.info("waiting up to %.0f s for %d running job(s)", seconds, len(self.running))
            done, pending = await asyncio.wait(self.running, timeout=seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def stop_on_signals(stop: asyncio.Event) -> None:
    """First SIGTERM/SIGINT: stop gracefully. Second: exit at once."""
    loop = asyncio.get_running_loop()

    def on_signal(number: int) -> None:
        if stop.is_set():
            log.warning("second %s: exiting now", signal.Signals(number).name)
            os._exit(1)
        log.info("%s: shutting down", signal.Signals(number).name)
        stop.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, on_signal, number)


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    repo = await SQLiteRepository.open(settings.database_path)
    started: list[Adapter] = []
    try:
        async with FeedFetcher(allow_private=settings.allow_private_sources) as fetcher:
            poller = FeedPoller(repo, fetcher, utc_now)
            core = Core(repo, settings, COMMANDS, poller=poller)
            for adapter in build_adapters(core, settings):
                await adapter.start()
                started.append(adapter)
            policy = DeliveryPolicy(grace=timedelta(hours=settings.catchup_hours))
            dispatcher = DigestDispatcher(repo, {a.platform: a for a in started}, utc_now, policy)
            jobs = Jobs()
            jobs.every(DISPATCH_EVERY, dispatcher.tick, "digests")
            jobs.every(POLL_EVERY, poller.poll_due, "feeds")
            jobs.start()
            log.info("newsdigest is running on %s", ", ".join(a.platform for a in started))
            await stop.wait()
            await jobs.drain(DRAIN_SECONDS)  # adapters stay up so in-flight digests can finish
    finally:
        for adapter in started:
            await adapter.stop()
        await repo.close()
    log.info("newsdigest stopped")
    return 0
