"""Story clustering: precision and recall on the labelled pairs, and the cost per stored article.

Quality: the articles of tests/data/story_articles.jsonl go one by one, in publication order,
through the real store_articles into a fresh database; each labelled pair of
tests/data/story_pairs.jsonl is then right when the two articles share a story exactly when the
label says they should. Precision and recall count "same story" as the positive class. The bundled
samples (bot/samples, real-world wording, imported in one batch) are scored the same way against
the events tests/data/sample_stories.json gives them, as a check written apart from the labelled set.

Cost: generated news (events in made-up places, people and organisations, each reported by one to
four outlets, about a thousand articles a day) is written in bulk to stores of 10,000 and 100,000
articles; then new articles, some reporting new events and some late reports of recent ones, are
stored one by one. Both the whole store_articles call and its clustering step alone (fingerprint,
candidate search, frequencies, decision) are timed, with the fingerprint cache warm as in a running
bot. The candidates come from a time-bounded index, so the cost should not grow with the store.

    python -m bench.story_quality [--runs N]
    python -m bench.story_quality --sweep      # other weightings and thresholds, on the labelled pairs
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from bench.common import CACHE, SYLLABLES, Figure, median, p95, show
from bot.importer import import_paths
from bot.model import ArticleDraft, BiasRating, OutletInfo
from bot import stories
from bot.stories import DOCUMENTS, fingerprint
from storage.sqlite import SQLiteRepository, _stored_fingerprint

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SAMPLES = Path(__file__).resolve().parent.parent / "bot" / "samples"
PRECISION_TARGET = 0.95
RECALL_TARGET = 0.85
FLAT_TARGET = 2.0  # clustering cost at 100k over the cost at 10k
START = datetime(2026, 1, 1, tzinfo=UTC)
PER_DAY = 1000
SOURCES = 40
ACTIONS = ["approves", "rejects", "delays", "announces", "cuts", "raises", "opens", "closes", "wins", "loses",
           "backs", "blocks", "expands", "suspends", "reviews", "signs"]
SUBJECTS = ["budget", "contract", "strike", "merger", "election", "tariff", "inquiry", "vaccine", "bridge",
            "pipeline", "stadium", "treaty", "reform", "lawsuit", "satellite", "harbour", "railway", "wildfire",
            "flood", "heatwave", "pension", "school", "hospital", "factory", "airport", "ferry", "mine", "bank"]
DETAILS = ["workers", "residents", "investors", "farmers", "teachers", "nurses", "drivers", "voters", "councillors",
           "regulators", "judges", "lawmakers", "prices", "wages", "jobs", "costs", "delays", "talks", "protests",
           "damage", "exports", "imports", "shares", "profits", "losses", "emissions", "safety", "plans", "rules",
           "funding", "deadline", "vote", "appeal", "offer", "claim", "shortage", "repairs", "warnings"]


# quality on the labelled pairs

def labelled_drafts() -> list[tuple[str, ArticleDraft]]:
    rows = [json.loads(line) for line in (DATA / "story_articles.jsonl").read_text().splitlines() if line]
    rows.sort(key=lambda r: r["published_at"])
    return [(r["key"], ArticleDraft(
        title=r["title"], lead=r["lead"], key_points=tuple(r["key_points"]),
        outlet=OutletInfo(r["outlet"], bias=BiasRating.parse(r["bias"])),
        url=f"https://{r['outlet'].lower().replace(' ', '')}.example/{r['key']}",
        published_at=datetime.fromisoformat(r["published_at"]))) for r in rows]


async def cluster_labelled(folder: Path) -> dict[str, int]:
    """Each labelled article's story once all are stored, one at a time as a feed would bring them
    (a later article can merge two stories)."""
    repo = await SQLiteRepository.open(folder / "labelled.db")
    try:
        ids = {key: (await repo.store_articles([draft])).new_ids[0] for key, draft in labelled_drafts()}
        articles = {article.id: article for article in await repo.articles_by_id(list(ids.values()))}
        return {key: articles[article_id].story for key, article_id in ids.items()}
    finally:
        await repo.close()


class Pair(NamedTuple):
    a: str
    b: str
    same: bool
    why: str


def labelled_pairs() -> list[Pair]:
    rows = [json.loads(line) for line in (DATA / "story_pairs.jsonl").read_text().splitlines() if line]
    return [Pair(r["a"], r["b"], r["same"], r["why"]) for r in rows]


def sample_events() -> dict[str, str]:
    """The event each bundled sample reports, by its link (tests/data/sample_stories.json)."""
    labels = json.loads((DATA / "sample_stories.json").read_text())
    return {url: event for url, event in labels.items() if not url.startswith("_")}


async def cluster_samples(folder: Path) -> dict[str, int]:
    """Each bundled sample's story, imported in one go as `newsdigest import` does."""
    repo = await SQLiteRepository.open(folder / "samples.db")
    try:
        await import_paths(repo, [SAMPLES])
        return {article.url: article.story for article in await repo.latest_articles(None, 1000)}
    finally:
        await repo.close()


def sample_pairs() -> list[Pair]:
    """Every two bundled samples: the same story exactly when they report the same event."""
    events = sample_events()
    return [Pair(a, b, events[a] == events[b], " / ".join(sorted({events[a], events[b]})))
            for a, b in itertools.combinations(sorted(events), 2)]


def score_pairs(stories: dict[str, int], pairs: list[Pair]) -> tuple[float, float, list[str]]:
    tp = fp = fn = 0
    wrong = []
    for pair in pairs:
        joined = stories[pair.a] == stories[pair.b]
        tp += joined and pair.same
        fp += joined and not pair.same
        fn += pair.same and not joined
        if joined != pair.same:
            wrong.append(f"{'merged' if joined else 'split'}: {pair.a} / {pair.b} ({pair.why})")
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), wrong


# cost at scale

def _name(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


@dataclass(frozen=True)
class Event:
    place: str
    person: str
    organisation: str
    action: str
    subject: str
    details: tuple[str, ...]
    figure: int
    at: datetime


class NewsGenerator:
    """Events, each told by a few outlets in different words; times advance PER_DAY a day."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.places = sorted({_name(rng, 3) for _ in range(4000)})
        self.people = sorted({f"{_name(rng, 2)} {_name(rng, 3)}" for _ in range(4000)})
        self.organisations = sorted({f"{_name(rng, 2)} {rng.choice(['Group', 'Holdings', 'Council', 'Union'])}"
                                     for _ in range(3000)})

    def event(self, at: datetime) -> Event:
        rng = self.rng
        return Event(rng.choice(self.places), rng.choice(self.people), rng.choice(self.organisations),
                     rng.choice(ACTIONS), rng.choice(SUBJECTS), tuple(rng.sample(DETAILS, 8)),
                     rng.randrange(10, 5000), at)

    def draft(self, event: Event, outlet: int, at: datetime, n: int) -> ArticleDraft:
        rng = self.rng
        details = rng.sample(event.details, 5)
        title = rng.choice([f"{event.organisation} {event.action} {event.subject} in {event.place}",
                            f"{event.place} {event.subject}: {event.organisation} {event.action} plan",
                            f"{details[0].capitalize()} react as {event.organisation} {event.action} {event.subject}"])
        lead = (f"The {event.subject} plan in {event.place} changed on {at:%A} when {event.organisation} said it "
                f"{event.action} it, {event.person} told reporters, citing {details[1]} and {details[2]}.")
        points = (f"About {event.figure} {details[3]} are affected.",
                  f"{event.person} said {details[4]} would follow.",
                  f"Critics in {event.place} want a new vote.")
        outlet_name = f"Outlet {outlet}"
        return ArticleDraft(title=title, lead=lead, key_points=points,
                            outlet=OutletInfo(outlet_name, bias=list(BiasRating)[outlet % 6]),
                            url=f"https://o{outlet}.example/{n}", published_at=at)

    def stream(self, count: int, start: datetime) -> Iterator[ArticleDraft]:
        """About PER_DAY articles a day: most events told by one to four outlets over a few hours."""
        step = timedelta(days=1) / PER_DAY
        at, n, pending = start, 0, []
        while n < count:
            if not pending or self.rng.random() < 0.4:
                event = self.event(at)
                outlets = self.rng.sample(range(1, SOURCES + 1), self.rng.choice((1, 1, 2, 3, 4)))
                pending += [(event, o) for o in outlets]
            event, outlet = pending.pop(self.rng.randrange(len(pending)))
            yield self.draft(event, outlet, at, n)
            n += 1
            at += step


async def build_store(path: Path, articles: int) -> Path:
    """Generated articles written in bulk, with their story index and frequencies; cached by size.

    Stories of the bulk rows are filed by exact title match rather than the real decision: the
    rows are the haystack the candidate search has to look through, not the subject measured.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():  # made by an older build: migrated here once, not in every copy measured
        await (await SQLiteRepository.open(path)).close()
        return path
    repo = await SQLiteRepository.open(path)
    await repo.close()
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        db.executemany("INSERT INTO sources (id, name, name_key, bias, created_at) VALUES (?, ?, ?, ?, 0)",
                       ((i, f"Outlet {i}", f"outlet {i}", list(BiasRating)[i % 6].value)
                        for i in range(1, SOURCES + 1)))
        for i, draft in enumerate(NewsGenerator(seed=11).stream(articles, START), 1):
            stamp = int(draft.published_at.timestamp()) if draft.published_at else 0
            print_ = fingerprint(draft.title, draft.lead, draft.key_points)
            db.execute(
                "INSERT INTO articles (id, source_id, title, lead, key_points, url, canonical_url, published_at,"
                " sort_at, dedupe_key, stored_at, story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (i, int(draft.outlet.name.split()[-1]), draft.title, draft.lead, json.dumps(draft.key_points),
                 draft.url, draft.url, stamp, stamp, f"k{i}", stamp, i))
            db.executemany("INSERT INTO story_keys (key, sort_at, article_id) VALUES (?, ?, ?)",
                           ((key, stamp, i) for key in print_.keys))
            counts.update({DOCUMENTS, *print_.features})
        db.executemany("INSERT INTO story_terms (term, df) VALUES (?, ?)", counts.items())
        db.execute("COMMIT")
        db.execute("ANALYZE")
    print(f"built {path.name}: {articles:,} articles in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


async def measure(cached: Path, stored: int, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds per article: the whole store_articles call, and its clustering step alone."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.db"
        shutil.copy(cached, path)
        repo = await SQLiteRepository.open(path)
        try:
            start = START + timedelta(days=1) / PER_DAY * stored
            whole, clustering = [], []
            for draft in NewsGenerator(seed=stored).stream(runs, start):
                assert draft.published_at is not None
                began = time.perf_counter()
                print_ = fingerprint(draft.title, draft.lead, draft.key_points)
                await repo._stories_for([(0, int(draft.published_at.timestamp()), print_)])  # the step alone
                clustering.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()  # its fingerprint is cached now: a fraction of a millisecond
                await repo.store_articles([draft])
                whole.append((time.perf_counter() - began) * 1000)
            return whole, clustering
        finally:
            await repo.close()


async def main(runs: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        pairs = labelled_pairs()
        precision, recall, wrong = score_pairs(await cluster_labelled(Path(folder)), pairs)
        samples = sample_pairs()
        sample_precision, sample_recall, sample_wrong = score_pairs(await cluster_samples(Path(folder)), samples)
    for line in wrong:
        print("  " + line)
    ok = show(f"Story clustering quality ({len(pairs)} labelled pairs)", [
        Figure("precision", precision, "", f">= {PRECISION_TARGET}", precision >= PRECISION_TARGET),
        Figure("recall", recall, "", f">= {RECALL_TARGET}", recall >= RECALL_TARGET),
    ])
    for line in sample_wrong:
        print("  " + line)
    show(f"The bundled samples, as a check ({sum(p.same for p in samples)} same-story pairs of {len(samples)})", [
        Figure("precision", sample_precision, ""),
        Figure("recall", sample_recall, ""),
    ])
    results = {}
    for stored in (10_000, 100_000):
        path = await build_store(CACHE / f"stories-{stored}.db", stored)
        results[stored] = await measure(path, stored, runs)
    small, large = median(results[10_000][1]), median(results[100_000][1])
    ok &= show(f"Cost per stored article ({runs} articles stored one by one)", [
        Figure("store_articles at 10k, median", median(results[10_000][0]), "ms"),
        Figure("store_articles at 100k, median", median(results[100_000][0]), "ms"),
        Figure("store_articles at 100k, p95", p95(results[100_000][0]), "ms"),
        Figure("clustering step at 10k, median", small, "ms"),
        Figure("clustering step at 100k, median", large, "ms"),
        Figure("clustering step at 100k, p95", p95(results[100_000][1]), "ms"),
        Figure("clustering 100k / 10k", large / small, "x", f"<= {FLAT_TARGET}", large / small <= FLAT_TARGET),
    ])
    return ok


async def sweep() -> None:
    """Precision and recall on the labelled pairs under other settings of bot.stories: whether
    another weighting of names, fields or the threshold meets both targets."""
    print("name weight  field weights    threshold  precision  recall")
    for name_weight, fields, threshold in itertools.product((0.5, 1.0, 1.5), ((2.0, 1.0, 0.3), (1.0, 1.0, 0.3),
                                                                           (2.0, 1.0, 0.5)), (0.09, 0.105, 0.12)):
        stories.NAME_WEIGHT, stories._FIELD_WEIGHTS, stories.STORY_THRESHOLD = name_weight, fields, threshold
        stories.fingerprint.cache_clear()
        _stored_fingerprint.cache_clear()
        with tempfile.TemporaryDirectory() as folder:
            precision, recall, _ = score_pairs(await cluster_labelled(Path(folder)), labelled_pairs())
        met = "  both met" if precision >= PRECISION_TARGET and recall >= RECALL_TARGET else ""
        print(f"{name_weight:11}  {str(fields):15}  {threshold:9}  {precision:9.3f}  {recall:6.3f}{met}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="articles stored one by one at each size")
    parser.add_argument("--sweep", action="store_true",
                        help="only the labelled pairs' precision and recall under 27 other settings")
    args = parser.parse_args()
    if args.sweep:
        asyncio.run(sweep())
        sys.exit(0)
    sys.exit(0 if asyncio.run(main(args.runs)) else 1)
