"""Fan-out to the cap: many Telegram chats due at the same minute, through the real adapter.

The fake Bot API runs in its own process and enforces Telegram's caps (overall, 1 msg/s per
chat, 20/min per group), counting every 429 it answers. To finish in about a minute, the
overall cap is raised for both sides alike (default 150 msg/s, five times Telegram's 30); the
per-chat cap stays Telegram's. Reported: delivered rate / cap, measured on the fake's clock.

    python -m bench.fanout [--chats N] [--cap MSGS_PER_S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from adapters.telegram import RateSettings, TelegramAdapter
from bench.fake_telegram import TOKEN
from bench.common import Figure, add_due_subscriptions, show
from bot.commands.all import COMMANDS
from bot.config import load_settings
from bot.core import Core
from bot.delivery import DigestDispatcher
from storage.sqlite import SQLiteRepository
from tests.factories import OUTLETS, draft


async def prepare(path: Path, chats: int) -> None:
    repo = await SQLiteRepository.open(path)
    await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
    await repo.close()
    add_due_subscriptions(path, "telegram", chats)


async def main(chats: int, cap: float) -> bool:
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fake_telegram", "--chats", str(chats), "--overall", str(cap),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert fake.stdout is not None and fake.stdin is not None
    base_url = (await fake.stdout.readline()).decode().strip()
    with tempfile.TemporaryDirectory(prefix="newsdigest-bench-") as tmp:
        db = Path(tmp) / "fanout.db"
        await prepare(db, chats)
        repo = await SQLiteRepository.open(db)
        core = Core(repo, load_settings(database_url=f"sqlite:///{db}"), COMMANDS)
        adapter = TelegramAdapter(core, TOKEN, base_url=base_url, rates=RateSettings(overall_per_second=cap))
        await adapter.start()
        dispatcher = DigestDispatcher(repo, {"telegram": adapter}, lambda: datetime.now(UTC))
        started = time.perf_counter()
        report = await dispatcher.tick()
        wall = time.perf_counter() - started
        await adapter.stop()
        await repo.close()
    fake.stdin.write(b"stats\n")
    await fake.stdin.drain()
    stats = json.loads((await fake.stdout.readline()).decode())
    await fake.wait()
    span = stats["last"] - stats["first"]
    rate = (stats["sent"] - 1) / span if span else 0.0
    figures = [
        Figure("digests delivered", report.sent, "chats", f"= {chats}", report.sent == chats),
        Figure("messages accepted by the fake", stats["sent"], "msgs"),
        Figure("delivered rate (fake's clock)", rate, "msgs/s"),
        Figure("delivered rate / cap", rate / cap, "", ">= 0.95", rate / cap >= 0.95),
        Figure("429 answers", stats["too_many_requests"], "", "= 0", stats["too_many_requests"] == 0),
        Figure("wall time", wall, "s"),
    ]
    return show(f"Fan-out: {chats:,} Telegram chats due at once, cap {cap:g} msg/s overall and 1 msg/s per chat",
                 figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--cap", type=float, default=150)
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(main(args.chats, args.cap)) else 1)
