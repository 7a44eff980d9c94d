"""Digests of stories: one item per story, covered-by lines, blind spots, balance, and /story."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from adapters.console import ConsoleAdapter
from bot.core import Core
from bot.digest import blind_spot, build_digest, item_lines, select
from bot.model import Article, BiasRating, DigestOptions, Source
from bot.reply import BalanceLine, ItemLine
from storage.sqlite import SQLiteRepository
from tests.test_stories import ROWS, store, story_draft

R = BiasRating
DAY = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


def items(parts: list[object]) -> list[ItemLine]:
    return [p for p in parts if isinstance(p, ItemLine)]


async def test_one_story_from_three_outlets_is_one_item_naming_all_three(repo: SQLiteRepository) -> None:
    fuller = dataclasses.replace(story_draft("varnholm-rate-1"),
                                 key_points=(*story_draft("varnholm-rate-1").key_points, "Markets barely moved."))
    await repo.store_articles([fuller])
    await store(repo, "varnholm-rate-2", "varnholm-rate-3", "kessarine-rate")
    digest = await build_digest(repo, None, DigestOptions(), after_id=0)
    lines = items(item_lines(digest.articles, digest.sources))
    assert len(lines) == 2
    varnholm = next(line for line in lines if line.covered_by and len(line.covered_by) == 3)
    assert varnholm.title == ROWS["varnholm-rate-1"]["title"]  # most key points wins over newer summaries
    assert varnholm.covered_by == (("Northlight Herald", R.LEFT), ("Meridian Post", R.CENTER),
                                   ("Bellweather Review", R.LEAN_RIGHT))  # left to right on the scale
    assert varnholm.blind_spot is None
    balance = item_lines(digest.articles, digest.sources)[-1]
    assert balance == BalanceLine(((R.LEFT, 1), (R.CENTER, 1), (R.LEAN_RIGHT, 2)))


async def test_with_equal_key_points_the_newest_summary_is_shown(repo: SQLiteRepository) -> None:
    await store(repo, "varnholm-rate-1", "varnholm-rate-2", "varnholm-rate-3")
    digest = await build_digest(repo, None, DigestOptions(), after_id=0)
    [line] = items(item_lines(digest.articles, digest.sources))
    assert line.title == ROWS["varnholm-rate-3"]["title"]


async def test_a_late_article_brings_its_story_back_with_every_outlet(repo: SQLiteRepository) -> None:
    stories = await store(repo, "drummel-heat-1", "drummel-heat-2")
    cursor = await repo.max_article_id()
    await store(repo, "drummel-heat-3")
    digest = await build_digest(repo, None, DigestOptions(), after_id=cursor)
    [line] = items(item_lines(digest.articles, digest.sources))
    assert len(line.covered_by) == 3
    assert {a.story for a in digest.articles} == {stories["drummel-heat-1"]}


async def test_a_resent_digest_regroups_into_the_same_items(repo: SQLiteRepository) -> None:
    await store(repo, "ostreva-vote-1", "ostreva-vote-2", "pellun-vote", "ostreva-vote-3")
    digest = await build_digest(repo, None, DigestOptions(), after_id=0)
    again = await repo.articles_by_id([a.id for a in digest.articles])  # what the ledger keeps
    sources = await repo.sources_by_id({a.source_id for a in again})
    assert item_lines(again, sources) == item_lines(digest.articles, digest.sources)
    assert len(items(item_lines(again, sources))) == 2


def test_blind_spots_are_stories_only_one_side_reported() -> None:
    assert blind_spot([R.LEFT, R.LEAN_LEFT]) == "left"
    assert blind_spot([R.LEAN_RIGHT]) == "right"
    assert blind_spot([R.RIGHT, R.LEAN_RIGHT, R.RIGHT]) == "right"
    assert blind_spot([R.LEAN_LEFT, R.CENTER]) is None
    assert blind_spot([R.LEFT, R.RIGHT]) is None
    assert blind_spot([R.LEAN_LEFT, R.UNRATED]) is None  # an unrated outlet might be anywhere
    assert blind_spot([]) is None


async def test_digest_items_mark_blind_spots(repo: SQLiteRepository) -> None:
    await store(repo, "brightwell-deal-1", "quillon-fine-1", "quillon-fine-3")  # Ledger Wire; LL + C
    await store(repo, "ebbing-quits-1", "ebbing-quits-2")  # Granite Tribune (R) + Harbour Courier (LL)
    await store(repo, "bremlin-walkout-1")  # Tideline Press (LL) alone
    digest = await build_digest(repo, None, DigestOptions(), after_id=0)
    marks = {line.title: line.blind_spot for line in items(item_lines(digest.articles, digest.sources))}
    assert marks[ROWS["brightwell-deal-1"]["title"]] == "right"
    assert marks[ROWS["bremlin-walkout-1"]["title"]] == "left"
    assert sum(mark is None for mark in marks.values()) == 2


# selection over crafted stories: ids say the order (newest highest), story_id the grouping

SOURCES = {i: Source(i, f"S{i}", bias=bias) for i, bias in
           enumerate([R.LEFT, R.LEFT, R.LEAN_LEFT, R.CENTER, R.RIGHT, R.RIGHT, R.LEAN_RIGHT], 1)}


def article(article_id: int, source_id: int, story: int, title: str = "News", points: int = 1) -> Article:
    return Article(article_id, source_id, f"{title} {article_id}", "Lead.", tuple("p" * points), None,
                   DAY - timedelta(minutes=100 - article_id), False, str(article_id), DAY, story)


def stories_of(chosen: list[Article]) -> list[int]:
    return list(dict.fromkeys(a.story for a in chosen))


CRAFTED_DAY = [  # newest first, as the repository gives them: the left dominates the day's news
    article(90, 1, 90), article(89, 2, 89), article(88, 3, 88), article(87, 1, 87, "Harbour"),
    article(86, 4, 80), article(85, 5, 80), article(80, 4, 80),  # a story from the centre and the right
    article(70, 6, 70), article(69, 7, 70),  # a right-only story
]


def test_balanced_spreads_stories_across_the_ratings_present() -> None:
    plain = select(CRAFTED_DAY, SOURCES, DigestOptions(items=4, per_source=5))
    assert stories_of(plain) == [90, 89, 88, 87]  # newest first: all from the left
    balanced = select(CRAFTED_DAY, SOURCES, DigestOptions(items=4, per_source=5, balanced=True))
    assert stories_of(balanced) == [90, 88, 80, 70]  # one pick per least-covered rating, kept in news order
    covered: dict[R, int] = {}
    for story in stories_of(balanced):
        for bias in {SOURCES[a.source_id].bias for a in balanced if a.story == story}:
            covered[bias] = covered.get(bias, 0) + 1
    assert covered == {R.LEFT: 1, R.LEAN_LEFT: 1, R.CENTER: 1, R.LEAN_RIGHT: 1, R.RIGHT: 2}


def test_caps_and_filters_apply_to_stories() -> None:
    capped = select(CRAFTED_DAY, SOURCES, DigestOptions(items=10, per_source=1))
    assert stories_of(capped) == [90, 89, 88, 80, 70]  # 87 is a second story shown from S1
    assert [a.id for a in capped if a.story == 80] == [86, 85, 80]  # every article of a chosen story
    harbour = select(CRAFTED_DAY, SOURCES, DigestOptions(items=10, include=("harbour",)))
    assert stories_of(harbour) == [87]
    only = select(CRAFTED_DAY, SOURCES, DigestOptions(items=10, sources=(5,)))
    assert [a.id for a in only] == [85]  # a chat reading one outlet sees only its coverage


async def test_story_command_lists_every_article_with_outlet_rating_and_link(repo: SQLiteRepository,
                                                                             core: Core) -> None:
    stories = await store(repo, "ostreva-vote-1", "ostreva-vote-2", "pellun-vote", "ostreva-vote-3")
    console = ConsoleAdapter(core)
    text = "\n".join(await console.ask(f"/story {stories['ostreva-vote-3']}"))
    assert text.startswith(f"Story #{stories['ostreva-vote-1']}: 3 articles from 3 outlets")
    for key, rating in (("ostreva-vote-1", "Lean Left"), ("ostreva-vote-2", "Right"),
                        ("ostreva-vote-3", "Center")):
        assert ROWS[key]["title"] in text and f"{ROWS[key]['outlet']} · {rating}" in text
        assert f"https://{ROWS[key]['outlet'].lower().replace(' ', '')}.example/{key}" in text
    assert ROWS["pellun-vote"]["title"] not in text
    assert "Usage: /story <id>" in "\n".join(await console.ask("/story"))
    assert "No article #999" in "\n".join(await console.ask("/story 999"))
