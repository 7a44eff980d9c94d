"""Shared pieces of the benchmarks: generated data at scale, percentiles, the result table.

Benchmarks print their figures and exit non-zero when a target is missed; they are not tests and
never run in the test suite. Absolute times vary by machine, so each script also prints a ratio
against a baseline measured in the same run.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.model import BiasRating
from storage.sqlite import SQLiteRepository

CACHE = Path(__file__).parent / ".cache"
RATINGS = [r.value for r in BiasRating if r is not BiasRating.UNRATED]
SYLLABLES = ["ka", "lo", "mi", "ren", "sa", "to", "vel", "dor", "an", "bri", "cus", "del", "fen", "gar", "hol",
             "is", "jor", "kel", "lum", "mar", "nor", "ost", "pra", "quin", "ros", "sel", "tur", "ul", "vin", "wen"]
TOPICS = ["korea", "harbour", "election", "tariff", "heatwave", "launch", "strike", "bank", "court", "rail"]


def words(rng: random.Random, count: int = 6000) -> list[str]:
    """A stable pseudo-vocabulary: two- and three-syllable words, plus a few real topic words."""
    vocab = {"".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))) for _ in range(count * 2)}
    return TOPICS + sorted(vocab)[:count]


def sentence(rng: random.Random, vocab: list[str], length: int) -> str:
    # Zipf-like: low indexes (topics first) are common, the tail is rare
    picks = [vocab[min(int(rng.paretovariate(1.2)) - 1, len(vocab) - 1)] for _ in range(length)]
    return " ".join(picks).capitalize() + "."


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None


def show(title: str, figures: list[Figure]) -> bool:
    """Print the table; True when every figure with a target met it."""
    print(f"\n{title}")
    width = max(len(f.name) for f in figures)
    for f in figures:
        verdict = "" if f.ok is None else ("  ok" if f.ok else "  MISSED")
        target = f"  (target {f.target})" if f.target else ""
        print(f"  {f.name:<{width}}  {f.value:>12,.3f} {f.unit}{target}{verdict}")
    return all(f.ok is not False for f in figures)


def p95(values: list[float]) -> float:
    """Of a single run too (`--runs 1`), which statistics.quantiles refuses."""
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


def median(values: list[float]) -> float:
    return statistics.median(values)


def add_due_subscriptions(path: Path, platform: str, chats: int) -> None:
    """Chats 1..N subscribed daily at 07:00 UTC, every one of them due now."""
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO subscriptions (platform, chat_id, times, days, timezone, next_due_at, created_at)"
            " VALUES (?, ?, '[\"07:00\"]', '[0,1,2,3,4,5,6]', 'UTC', ?, 0)",
            ((platform, str(n), int(time.time()) - 30) for n in range(1, chats + 1)),
        )


async def build_store(path: Path, articles: int, sources: int = 500, seed: int = 7) -> Path:
    """A database with generated articles and sources, written in bulk.

    Rows go in through plain sqlite3 in one transaction (the schema comes from the real
    migrations), because a million repository calls would measure the generator, not the bot.
    Cached by size, since building a million rows with their search index takes a while.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # made by an older build: migrated here once, not in every copy a benchmark takes
        await (await SQLiteRepository.open(path)).close()
        return path
    repo = await SQLiteRepository.open(path)  # the schema, from the real migrations
    await repo.close()
    rng = random.Random(seed)
    vocab = words(rng)
    started = time.perf_counter()
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO sources (id, name, name_key, description, website, bias, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 0)",
            ((i, f"Outlet {i}", f"outlet {i}", f"Outlet {i} is a generated outlet.", f"https://o{i}.example/",
              RATINGS[i % len(RATINGS)]) for i in range(1, sources + 1)),
        )
        base = 1_767_000_000

        def rows() -> Iterator[tuple[object, ...]]:
            for i in range(1, articles + 1):
                points = json.dumps([sentence(rng, vocab, 10) for _ in range(3)])
                url = f"https://o{i % sources + 1}.example/story/{i}"
                yield (i, i % sources + 1, sentence(rng, vocab, 8)[:-1], sentence(rng, vocab, 30), points, url, url,
                       base + i * 3, base + i * 3, f"k{i}", base + i * 3)

        db.executemany(
            "INSERT INTO articles (id, source_id, title, lead, key_points, url, canonical_url, published_at,"
            " sort_at, dedupe_key, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
        db.execute("COMMIT")
        db.execute("ANALYZE")
    print(f"built {path.name}: {articles:,} articles, {sources} sources in {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    return path
