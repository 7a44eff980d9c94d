"""Choosing what goes into a digest, and turning articles into reply parts.

Selection is a pure function of candidates and options, so the /digest preview and the scheduled
digest run exactly the same code on exactly the same data.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.model import Article, BiasRating, DigestOptions, Source
from bot.reply import ArticleCard, BalanceLine, ItemLine, Part, SourceCard
from storage.repository import Repository

CANDIDATES_PER_ITEM = 20  # candidates fetched per digest item, room for filters and caps


@dataclass(frozen=True)
class Digest:
    articles: tuple[Article, ...]
    sources: dict[int, Source]
    cursor: int  # newest article id considered: the next digest starts after it

    @property
    def empty(self) -> bool:
        return not self.articles


def _word_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def _text(article: Article) -> str:
    return " ".join((article.title, article.lead, *article.key_points))


def select(candidates: Sequence[Article], sources: dict[int, Source], options: DigestOptions) -> list[Article]:
    """Apply keyword filters, the per-outlet cap, the item count and (optionally) balance.

    `candidates` arrive newest first; the result keeps that order.
    """
    include, exclude = _word_pattern(options.include), _word_pattern(options.exclude)
    wanted = set(options.sources)
    eligible = [
        a for a in candidates
        if (not wanted or a.source_id in wanted)
        and (include is None or include.search(_text(a)))
        and (exclude is None or not exclude.search(_text(a)))
    ]
    per_source: Counter[int] = Counter()
    capped = []
    for article in eligible:
        if per_source[article.source_id] < options.per_source:
            per_source[article.source_id] += 1
            capped.append(article)
    if not options.balanced:
        return capped[: options.items]
    return _balanced(capped, sources, options.items)


def _balanced(articles: list[Article], sources: dict[int, Source], items: int) -> list[Article]:
    """Take the newest of each rating in turn, so every rating present gets an even share."""
    by_rating: dict[BiasRating, list[Article]] = defaultdict(list)
    for article in articles:
        by_rating[sources[article.source_id].bias].append(article)
    queues = [by_rating[r] for r in BiasRating if by_rating[r]]
    chosen: list[Article] = []
    while len(chosen) < items and any(queues):
        for queue in queues:
            if queue and len(chosen) < items:
                chosen.append(queue.pop(0))
    order = {a.id: i for i, a in enumerate(articles)}
    return sorted(chosen, key=lambda a: order[a.id])


async def build_digest(repo: Repository, scope: str | None, options: DigestOptions, after_id: int) -> Digest:
    cursor = await repo.max_article_id()
    candidates = await repo.articles_after(
        scope, after_id, options.items * CANDIDATES_PER_ITEM, source_ids=options.sources
    )
    sources = await repo.sources_by_id({a.source_id for a in candidates})
    chosen = select(candidates, sources, options)
    return Digest(tuple(chosen), sources, cursor)


def item_lines(articles: Iterable[Article], sources: dict[int, Source]) -> list[Part]:
    """Compact list lines, closed by the count of outlets per rating."""
    parts: list[Part] = []
    outlets: dict[BiasRating, set[int]] = defaultdict(set)
    for article in articles:
        source = sources[article.source_id]
        outlets[source.bias].add(source.id)
        parts.append(ItemLine(article.id, article.title, article.url, source.name, source.bias, article.lead))
    if parts:
        parts.append(BalanceLine(tuple((r, len(outlets[r])) for r in BiasRating if outlets[r])))
    return parts


def article_card(article: Article, source: Source) -> ArticleCard:
    return ArticleCard(
        article.id, article.title, article.url, source.name, source.bias, article.lead,
        article.key_points, article.published_at, article.ai_generated,
    )


def source_card(source: Source, original_url: str | None = None) -> SourceCard:
    return SourceCard(source.id, source.name, source.description, source.bias, source.website,
                      source.feed_url, original_url, source.health)
