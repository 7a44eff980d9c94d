"""/latest and /search at a million stored articles across 500 sources.

Measured in process around the core's command call (parse, authorise, query, build the reply),
as a chat's request would run, with the database's pages in the page cache: the searches are run
once before they are measured, and that first pass (pages read from disk as far as the cache lacks
them) is reported too. Baseline in the same run: the same /latest query forced to ignore the index
it relies on.

    python -m bench.commands [--articles N] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

from bench.common import CACHE, Figure, build_store, median, p95, show, words
from bot.commands import Request
from bot.commands.all import COMMANDS
from bot.config import load_settings
from bot.core import Core
from bot.model import ChatRef, UserRef
from storage.sqlite import SQLiteRepository


class Member:
    async def is_chat_admin(self) -> bool:
        return False

    async def resolve_chat(self, ref: str) -> ChatRef:
        raise NotImplementedError


async def measure(core: Core, lines: list[str]) -> list[float]:
    request = Request(ChatRef("telegram", "-100"), UserRef("telegram", "5"), Member())
    samples = []
    for line in lines:
        start = time.perf_counter()
        reply = await core.handle_text(request, line)
        samples.append(time.perf_counter() - start)
        assert reply is not None and "Sorry" not in reply.text, reply
    return samples


async def baseline_latest(repo: SQLiteRepository, runs: int) -> list[float]:
    """The /latest query without its sort index: SQLite must sort every visible article."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        async with repo.db.execute(
            "SELECT a.id FROM articles a NOT INDEXED JOIN sources s ON s.id = a.source_id"
            " WHERE s.scope IN ('', ?) ORDER BY a.sort_at DESC, a.id DESC LIMIT 5", ("telegram:-100",)
        ) as cursor:
            await cursor.fetchall()
        samples.append(time.perf_counter() - start)
    return samples


async def main(articles: int, runs: int) -> bool:
    path = await build_store(CACHE / f"commands-{articles}.db", articles)
    repo = await SQLiteRepository.open(path)
    core = Core(repo, load_settings(database_url=f"sqlite:///{path}"), COMMANDS)
    rng = random.Random(3)
    vocab = words(random.Random(7))
    latest_lines = [f"/latest {rng.choice((5, 10, 25))}" for _ in range(runs)]
    search_lines = [f"/search {' '.join(rng.sample(vocab[:400], rng.choice((1, 2))))}" for _ in range(runs)]
    first = await measure(core, search_lines)  # reads from disk whatever index pages the cache lacks
    latest = await measure(core, latest_lines)
    search = await measure(core, search_lines)
    baseline = await baseline_latest(repo, max(3, runs // 50))
    await repo.close()
    size = path.stat().st_size / 1e6
    figures = [
        Figure("/latest p95", p95(latest) * 1e3, "ms", "<= 5", p95(latest) * 1e3 <= 5),
        Figure("/latest median", median(latest) * 1e3, "ms"),
        Figure("/search p95", p95(search) * 1e3, "ms", "<= 20", p95(search) * 1e3 <= 20),
        Figure("/search median", median(search) * 1e3, "ms"),
        Figure("/search p95, first pass", p95(first) * 1e3, "ms"),
        Figure("baseline /latest without index, median", median(baseline) * 1e3, "ms"),
        Figure("index speed-up (baseline / /latest median)", median(baseline) / median(latest), "x"),
        Figure("database size", size, "MB"),
    ]
    return show(f"Commands at {articles:,} articles, 500 sources ({runs} runs each)", figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(main(args.articles, args.runs)) else 1)
