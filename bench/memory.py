"""Peak memory of the running bot: `newsdigest run` with 10,000 subscriptions and a million articles.

The bot runs as its own process on the Telegram adapter against the fake Bot API (caps lifted),
delivers every due digest once, and is stopped with SIGTERM. Its peak resident set (VmHWM) is
read from /proc. Baseline in the same run: the peak of `newsdigest run` started on an empty
database with no subscriptions, i.e. the interpreter and libraries alone.

    python -m bench.memory [--articles N] [--subscriptions N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench.common import CACHE, Figure, add_due_subscriptions, build_store, show
from bench.fake_telegram import TOKEN


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def sent(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]


async def run_bot(db: Path, base_url: str, expected: int) -> tuple[float, float]:
    """Start the bot, wait until `expected` digests are sent, stop it; (peak MB, seconds)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_BASE_URL": base_url, "LOG_LEVEL": "WARNING"}
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env)
    started = time.perf_counter()
    try:
        await asyncio.sleep(3)
        while sent(db) < expected:
            assert bot.returncode is None, "the bot exited early"
            assert time.perf_counter() - started < 900, "the fan-out did not finish in 15 minutes"
            await asyncio.sleep(1)
        elapsed = time.perf_counter() - started
        peak = peak_rss_mb(bot.pid)
    finally:
        bot.send_signal(signal.SIGTERM)
        await bot.wait()
    return peak, elapsed


async def main(articles: int, subscriptions: int) -> bool:
    source = await build_store(CACHE / f"commands-{articles}.db", articles)
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fake_telegram", "--chats", str(subscriptions), "--overall", "0",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert fake.stdout is not None and fake.stdin is not None
    base_url = (await fake.stdout.readline()).decode().strip()
    with tempfile.TemporaryDirectory(prefix="newsdigest-bench-") as tmp:
        empty = Path(tmp) / "empty.db"
        baseline, _ = await run_bot(empty, base_url, 0)
        db = Path(tmp) / "memory.db"
        shutil.copy(source, db)
        add_due_subscriptions(db, "telegram", subscriptions)
        peak, elapsed = await run_bot(db, base_url, subscriptions)
    fake.stdin.write(b"stats\n")
    await fake.stdin.drain()
    await fake.wait()
    figures = [
        Figure("peak RSS of the running bot", peak, "MB", "<= 150", peak <= 150),
        Figure("baseline: empty database, no subscriptions", baseline, "MB"),
        Figure("growth over the baseline", peak - baseline, "MB"),
        Figure("time to deliver every digest", elapsed, "s"),
    ]
    return show(f"Memory: `newsdigest run`, {subscriptions:,} subscriptions, {articles:,} articles", figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=10_000)
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(main(args.articles, args.subscriptions)) else 1)
