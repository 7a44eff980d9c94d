"""`newsdigest run` stopped in the middle of a fan-out, as a real process against the fake Telegram
Bot API: nothing is left 'sending', and the next start finishes the job at once, not after the
five-minute lease. Also: the status file and health while it runs, /status in chat, JSON logs."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.runner import INTERRUPTED, RESTARTING
from bot.core import Core
from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.model import ChatRef, DeliveryStatus, Schedule
from bot.ops.runlock import RunLock, lock_path
from bot.ops.runtime import RuntimeStatus, read_status
from storage.sqlite import SQLiteRepository
from tests.conftest import console_request
from tests.factories import OUTLETS, claim, draft
from tests.telegram.fake_bot_api import FakeBotAPI

TOKEN = "7000000003:AAFakeTokenForTheOpsTests_0123456789"
CHATS = range(1001, 1151)  # private chats: the bot paces them at 30 messages a second, so 5 s in all
OPERATOR = 500
RUNS = itertools.count(1)


async def prepare(db: Path) -> None:
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
    due = datetime.now(UTC) - timedelta(minutes=5)
    for chat in CHATS:
        await repo.save_subscription(ChatRef("telegram", str(chat)), Schedule(("07:00",)), due)
    await repo.close()


@asynccontextmanager
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    api = FakeBotAPI(TOKEN, max_poll_wait=1.0)
    await api.start()
    for chat in [*CHATS, OPERATOR]:
        api.add_chat(chat, "private")
    try:
        yield api
    finally:
        await api.stop()


class Run:
    """`newsdigest run` in a process of its own; its log goes to a file (a full pipe would stall it)."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process, self.log = process, log

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> str:
        if self.process.returncode is None:
            self.process.send_signal(how)
        await asyncio.wait_for(self.process.wait(), 60)
        return self.log.read_text()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def until(self, done: Callable[[], bool], what: str, timeout: float = 30) -> None:
        """Wait for `done()`; fail early, with the bot's log, if the bot exits or time runs out."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not done():
            if self.process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{what}: not yet after {timeout} s (exit code {self.process.returncode});"
                                     f" the bot's log ends:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.05)

    async def until_sent(self, api: FakeBotAPI, count: int) -> None:
        await self.until(lambda: len(api.sent) >= count, f"{count} messages sent")

    async def until_every_chat_has_a_digest(self, api: FakeBotAPI) -> None:
        """Within a minute: far less than the five-minute lease a stuck row would wait for."""
        await self.until(lambda: {m.chat_id for m in api.sent} >= set(CHATS), "every chat served", timeout=60)


@asynccontextmanager
async def running(db: Path, api: FakeBotAPI, **env: str) -> AsyncIterator[Run]:
    merged = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TELEGRAM_BOT_TOKEN": TOKEN,
              "TELEGRAM_API_BASE_URL": api.base_url, "NEWSDIGEST_ADMINS": f"telegram:{OPERATOR}", **env}
    log = db.with_name(f"run-{next(RUNS)}.log")
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=merged, cwd=db.parent,
                                                       stdout=sink, stderr=sink)
    run = Run(process, log)
    try:
        yield run
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def ledger(db: Path) -> Counter[str]:
    repo = await SQLiteRepository.open(db)
    try:
        statuses: Counter[str] = Counter()
        for n in range(1, len(CHATS) + 1):
            statuses.update(d.status.value for d in await repo.deliveries_for(n))
        return statuses
    finally:
        await repo.close()


async def errors(db: Path, status: DeliveryStatus) -> Counter[str | None]:
    repo = await SQLiteRepository.open(db)
    try:
        return Counter(e.delivery.error for e in await repo.ledger_entries(status, None, 10_000))
    finally:
        await repo.close()


async def health(db: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "health", "--live", env={**env, "DATABASE_URL": f"sqlite:///{db}"},
        cwd=db.parent, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def until_status(db: Path, ready: Callable[[RuntimeStatus], bool], timeout: float = 30) -> RuntimeStatus:
    path = Settings(database_url=f"sqlite:///{db}").status_path
    deadline = asyncio.get_running_loop().time() + timeout
    while (status := read_status(path)) is None or not ready(status):
        assert asyncio.get_running_loop().time() < deadline, status
        await asyncio.sleep(0.1)
    return status


def tick_done(status: RuntimeStatus) -> bool:
    """The dispatcher job has run and is not running now."""
    job = status.jobs.get("digests")
    return job is not None and job.last_finished_at is not None and not job.running


def digests_per_chat(api: FakeBotAPI) -> Counter[int]:
    return Counter(m.chat_id for m in api.sent if m.chat_id in CHATS)


async def test_sigterm_mid_fan_out_leaves_nothing_sending_and_the_restart_finishes_at_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await prepare(db)
    async with fake_api() as api:
        async with running(db, api, LOG_FORMAT="json", LOG_LEVEL="DEBUG", NEWSDIGEST_SHUTDOWN_SECONDS="0.5") as first:
            await first.until_sent(api, 30)
            log = await first.stop()
        assert first.returncode == 0, log[-3000:]
        events = [json.loads(line) for line in log.splitlines()]  # one JSON object per line, nothing else
        assert any(e["message"] == "newsdigest stopped" for e in events)
        assert TOKEN not in log and TOKEN.split(":")[1] not in log  # not even at DEBUG
        assert len(digests_per_chat(api)) < len(CHATS), "the fan-out finished before the signal: nothing was tested"

        after_stop = await ledger(db)
        assert after_stop["sending"] == 0, after_stop
        interrupted = (await errors(db, DeliveryStatus.FAILED))[INTERRUPTED]
        assert interrupted > 0  # cut short by the drain's deadline, released for a retry
        stopped = read_status(Settings(database_url=f"sqlite:///{db}").status_path)
        assert stopped is not None and stopped.state == "stopped" and stopped.adapters["telegram"].state == "stopped"

        async with running(db, api, LOG_LEVEL="WARNING") as second:
            await second.until_every_chat_has_a_digest(api)
            await until_status(db, tick_done)
            code, report = await health(db)
            assert code == 0, report
            assert "telegram: connected since" in report and "; last send" in report
            api.inject_text(OPERATOR, "/status", user_id=OPERATOR)
            [answer] = await api.wait_for_messages(1, chat_id=OPERATOR, timeout=15)
            assert "telegram: connected" in answer.plain and "telegram: 150 active, 0 disabled" in answer.plain
            log = await second.stop()
        assert second.returncode == 0, log[-3000:]
    assert await ledger(db) == {"sent": len(CHATS)}  # one row per chat, each sent
    per_chat = digests_per_chat(api)
    assert set(per_chat) == set(CHATS)
    assert sum(per_chat.values()) - len(CHATS) <= interrupted  # a resend only where a send was cut short
    code, report = await health(db)
    assert code == 1 and "the bot is stopped" in report


async def test_sigterm_mid_fan_out_lets_the_sends_in_flight_finish(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await prepare(db)
    async with fake_api() as api:
        async with running(db, api, LOG_LEVEL="INFO") as run:
            await run.until_sent(api, 30)
            log = await run.stop()
    assert run.returncode == 0, log[-3000:]
    assert "cut short" not in log and "interrupted deliveries" not in log
    assert await ledger(db) == {"sent": len(CHATS)}  # the whole fan-out fits in the default 20 s
    assert digests_per_chat(api) == Counter(CHATS)


async def test_after_kill_9_mid_fan_out_the_next_start_resumes_at_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await prepare(db)
    async with fake_api() as api:
        async with running(db, api, LOG_LEVEL="WARNING") as first:
            await first.until_sent(api, 30)
            await first.stop(signal.SIGKILL)
        left = await ledger(db)
        assert left["sending"] > 0, left  # claimed, then the process died: no code ran to release them

        async with running(db, api, LOG_LEVEL="INFO") as second:
            await second.until_every_chat_has_a_digest(api)
            log = await second.stop()
    assert f"{left['sending']} interrupted deliveries released for an immediate retry" in log
    assert await ledger(db) == {"sent": len(CHATS)}
    assert set(digests_per_chat(api)) == set(CHATS)


async def test_a_second_signal_exits_at_once_and_the_next_start_resumes(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await prepare(db)
    async with fake_api() as api:
        async with running(db, api, LOG_LEVEL="INFO", NEWSDIGEST_SHUTDOWN_SECONDS="120") as first:
            await first.until_sent(api, 30)
            first.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            started = asyncio.get_running_loop().time()
            log = await first.stop()
            assert asyncio.get_running_loop().time() - started < 5  # not the 120 s the first signal allows
        assert first.returncode == 1 and "second SIGTERM: exiting now" in log
        left = await ledger(db)
        assert left["sending"] > 0, left

        async with running(db, api, LOG_LEVEL="WARNING") as second:
            await second.until_every_chat_has_a_digest(api)
            await second.stop()
    assert await ledger(db) == {"sent": len(CHATS)}


async def test_a_second_run_waits_for_the_first_to_stop_then_takes_over(tmp_path: Path) -> None:
    """Two runs sending side by side could each take the other's rows for abandoned and send them
    again; the second waits, sending nothing, and starts when the lock is free."""
    db = tmp_path / "bot.db"
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(1)])
    now = datetime.now(UTC)
    chat = CHATS[0]
    subscription = await repo.save_subscription(ChatRef("telegram", str(chat)), Schedule(("07:00",)), now)
    claimed = await claim(repo, subscription, now, now + timedelta(days=1), [1], 1, now)
    assert claimed is not None  # as if the first run were sending it right now
    await repo.close()
    first = RunLock(lock_path(db))
    assert first.acquire()
    async with fake_api() as api:
        try:
            async with running(db, api, LOG_LEVEL="INFO") as second:
                await second.until(lambda: "waiting for it to stop" in second.log.read_text(), "waiting")
                assert await ledger(db) == {"sending": 1} and not api.sent_to(chat)
                assert read_status(Settings(database_url=f"sqlite:///{db}").status_path) is None
                first.release()  # the first run has stopped
                await second.until(lambda: bool(api.sent_to(chat)), "the released digest sent")
                log = await second.stop()
        finally:
            first.release()
    assert second.returncode == 0 and "the other run has stopped; starting" in log
    assert await ledger(db) == {"sent": 1}


async def test_a_run_told_to_stop_while_it_waits_for_the_lock_exits(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await prepare(db)
    first = RunLock(lock_path(db))
    assert first.acquire()
    try:
        async with fake_api() as api:
            async with running(db, api, LOG_LEVEL="INFO") as second:
                await second.until(lambda: "waiting for it to stop" in second.log.read_text(), "waiting")
                await second.stop()
            assert second.returncode == 0 and not api.sent
    finally:
        first.release()


async def test_commands_during_shutdown_get_a_restarting_answer(repo: SQLiteRepository, settings: Settings) -> None:
    core = Core(repo, settings, COMMANDS)
    request = console_request()
    answered = await core.handle_text(request, "/latest")
    assert answered is not None and answered.text != RESTARTING
    core.closed = RESTARTING
    refused = await core.handle_text(request, "/latest")
    assert refused is not None and refused.text == RESTARTING and refused.ephemeral
