"""`newsdigest run`: the composition root. One process, one event loop, every configured adapter.

It opens the database, builds the core, starts each platform adapter whose token is set, and
lets APScheduler wake two periodic jobs: the digest dispatcher and the feed poller. What is due
lives in the database, so these two jobs serve any number of chats and survive restarts.

Shutdown (SIGTERM or SIGINT): commands get a short "restarting" answer, no new jobs start, running
ones get NEWSDIGEST_SHUTDOWN_SECONDS to finish, then the adapters stop and the database closes.
A second signal exits at once.

One run per database: the run holds a lock beside it (bot.ops.runlock), and a second run (a
rolling restart, a second container) waits for the first to stop rather than send beside it. So
no digest is left stuck or sent twice by two runs: a delivery cut short (by the drain's deadline,
a second signal or kill -9) is known to be nobody else's and is released for an immediate retry,
at shutdown or at the next start, instead of waiting out its lease.

The run keeps a status file fresh for `newsdigest health` (bot.ops.runtime).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core, utc_now
from bot.delivery import DeliveryPolicy, DigestDispatcher
from bot.ingest.fetch import FeedFetcher
from bot.ingest.poller import FeedPoller
from bot.ops.runlock import RunLock, lock_path
from bot.ops.runtime import StatusFile, TrackedMessenger
from bot.outbox import Messenger
from storage.repository import Repository
from storage.sqlite import SQLiteRepository

log = logging.getLogger(__name__)

DISPATCH_EVERY = 30  # seconds: a digest is at most this late
POLL_EVERY = 60  # seconds: how often due feeds are looked for (each feed has its own interval)
INTERRUPTED = "interrupted: the bot stopped while sending"
LOCK_RETRY = 1.0  # seconds between tries for the lock another run holds
RESTARTING = "The bot is restarting; please try again in a minute."


class Adapter(Messenger, Protocol):
    @property
    def connected(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_adapters(core: Core, settings: Settings) -> list[Adapter]:
    """One adapter per configured token; the platform libraries are imported only when used."""
    adapters: list[Adapter] = []
    if settings.telegram_bot_token is not None:
        from adapters.telegram import TelegramAdapter, WebhookSettings

        webhook = None
        if settings.telegram_webhook_url and settings.telegram_webhook_secret:
            path = urlsplit(settings.telegram_webhook_url).path.strip("/") or "telegram"
            webhook = WebhookSettings(settings.telegram_webhook_url,
                                      settings.telegram_webhook_secret.get_secret_value(),
                                      settings.telegram_webhook_listen, settings.telegram_webhook_port, path)
        adapters.append(TelegramAdapter(core, settings.telegram_bot_token.get_secret_value(),
                                        base_url=settings.telegram_api_base_url, webhook=webhook))
    if settings.discord_bot_token is not None:
        from adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(core, settings.discord_bot_token.get_secret_value(),
                                       api_base_url=settings.discord_api_base_url,
                                       sync_guild=settings.discord_sync_guild))
    return adapters


class Jobs:
    """Periodic jobs whose running instances can be waited for at shutdown."""

    def __init__(self, status_file: StatusFile) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.running: set[asyncio.Task[object]] = set()
        self.status_file = status_file

    def every(self, seconds: int, job: Callable[[], Awaitable[object]], name: str) -> None:
        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)  # type: ignore[arg-type]
            self.status_file.status.job_started(name)
            self.status_file.write()
            error: str | None = None
            try:
                await job()
            except asyncio.CancelledError:  # by drain(), past its deadline: end quietly, not as a crash
                error = "cut short at shutdown"
                log.warning("the %s job was cut short at shutdown", name)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.exception("the %s job failed; it runs again in %d s", name, seconds)
            finally:
                self.running.discard(task)  # type: ignore[arg-type]
                self.status_file.status.job_finished(name, error)
                self.status_file.write()  # with the outcomes of the job's sends

        self.scheduler.add_job(tracked, "interval", seconds=seconds, id=name, name=name, max_instances=1,
                               coalesce=True, misfire_grace_time=seconds, next_run_time=utc_now())

    def start(self) -> None:
        self.scheduler.start()

    async def drain(self, seconds: float) -> None:
        """Start no more jobs, give the running ones `seconds` to finish, then cancel the rest."""
        self.scheduler.pause()  # not shutdown() yet: APScheduler's shutdown cancels running jobs at once
        if self.running:
            log.info("waiting up to %.0f s for %d running job(s)", seconds, len(self.running))
            _, pending = await asyncio.wait(self.running, timeout=seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self.scheduler.shutdown(wait=False)


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


async def release_interrupted(repo: Repository) -> None:
    """Deliveries cut short by a process that is gone: retry them now, not after the lease."""
    released = await repo.release_sending(utc_now(), INTERRUPTED)
    if released:
        log.info("%d interrupted deliveries released for an immediate retry", released)


async def wait_for_lock(lock: RunLock, stop: asyncio.Event) -> bool:
    """Take the run's lock, waiting while another run holds it; False if told to stop first."""
    if lock.acquire():
        return True
    log.warning("another newsdigest run holds %s: waiting for it to stop", lock.path)
    while not lock.acquire():
        try:
            await asyncio.wait_for(stop.wait(), LOCK_RETRY)
            return False
        except TimeoutError:
            pass
    log.info("the other run has stopped; starting")
    return True


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> int:
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    lock = RunLock(lock_path(settings.database_path))
    if not await wait_for_lock(lock, stop):
        return 0
    status_file = StatusFile(settings.status_path)  # the other run's until then
    runtime = status_file.status
    status_file.enter("starting")
    repo = await SQLiteRepository.open(settings.database_path)
    started: list[Adapter] = []
    heartbeat: asyncio.Task[None] | None = None
    try:
        await release_interrupted(repo)
        async with FeedFetcher(allow_private=settings.allow_private_sources) as fetcher:
            poller = FeedPoller(repo, fetcher, utc_now)
            core = Core(repo, settings, COMMANDS, poller=poller)
            for adapter in build_adapters(core, settings):
                link = runtime.adapter(adapter.platform)
                status_file.write()
                await adapter.start()
                started.append(adapter)
                link.enter("connected")
            messengers = {a.platform: TrackedMessenger(a, runtime.adapter(a.platform)) for a in started}
            policy = DeliveryPolicy(grace=timedelta(hours=settings.catchup_hours))
            dispatcher = DigestDispatcher(repo, messengers, utc_now, policy)
            jobs = Jobs(status_file)
            jobs.every(DISPATCH_EVERY, dispatcher.tick, "digests")
            jobs.every(POLL_EVERY, poller.poll_due, "feeds")
            jobs.start()
            heartbeat = asyncio.create_task(status_file.heartbeat({a.platform: a for a in started}),
                                            name="status-heartbeat")
            status_file.enter("running")
            log.info("newsdigest is running on %s", ", ".join(a.platform for a in started))
            await stop.wait()
            core.closed = RESTARTING
            status_file.enter("stopping")
            await jobs.drain(settings.shutdown_seconds)  # adapters stay up so in-flight digests can finish
    finally:
        if heartbeat is not None:
            heartbeat.cancel()
        for adapter in started:
            runtime.adapter(adapter.platform).enter("stopping")
            await adapter.stop()
            runtime.adapter(adapter.platform).enter("stopped")
        try:
            await release_interrupted(repo)  # what the drain's deadline cut short
        finally:
            await repo.close()
            lock.release()
            status_file.enter("stopped")
    log.info("newsdigest stopped")
    return 0
