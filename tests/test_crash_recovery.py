"""kill -9 in the middle of a fan-out, then a restart: every due chat gets its digest once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.model import ChatRef, Schedule
from storage.sqlite import SQLiteRepository
from tests.factories import OUTLETS, draft

SEVEN = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
CHATS = 200
ROOT = Path(__file__).resolve().parents[1]


def worker(db: Path, out: Path, clock: datetime, hang_after: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tests.crash_worker", str(db), str(out), clock.isoformat(),
                             str(hang_after), "8"], cwd=ROOT, env={**os.environ, "LOG_LEVEL": "WARNING"})


async def test_a_killed_fan_out_resumes_and_delivers_every_chat_exactly_once(tmp_path: Path) -> None:
    db, out = tmp_path / "bot.db", tmp_path / "sent.txt"
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
    for n in range(CHATS):
        await repo.save_subscription(ChatRef("console", f"chat{n}"), Schedule(("07:00",)), SEVEN)
    await repo.close()

    first = worker(db, out, SEVEN, hang_after=70)
    deadline = time.monotonic() + 60
    while not Path(f"{out}.hung").exists():
        assert first.poll() is None, "the worker ended before it hung"
        assert time.monotonic() < deadline, "the worker never reached the hang"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert len(out.read_text().splitlines()) == 70

    repo = await SQLiteRepository.open(db)
    statuses: Counter[str] = Counter()
    for n in range(1, CHATS + 1):
        statuses.update(d.status.value for d in await repo.deliveries_for(n))
    await repo.close()
    # every due slot was claimed before any was sent; the kill left the unsent ones claimed
    assert statuses == {"sent": 70, "sending": CHATS - 70}

    second = worker(db, out, SEVEN + timedelta(minutes=10), hang_after=10**9)  # after the lease
    assert second.wait(timeout=120) == 0
    sent = Counter(out.read_text().splitlines())
    assert len(sent) == CHATS and set(sent.values()) == {1}
