"""Choosing what goes into a digest, and turning stories and articles into reply parts.

A digest item is a story: the same news from every outlet that reported it, shown once with its
most complete summary and a line naming the outlets and their ratings. Selection is a pure function
of candidate articles and options, so the /digest preview and the scheduled digest run exactly the
same code on exactly the same data. The ledger records every article of the chosen stories, story by
story, so a resend regroups them into exactly the same items.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.model import Article, BiasRating, DigestOptions, Source
from bot.reply import ArticleCard, BalanceLine, ItemLine, Part, SourceCard
from storage.repository import Repository

CANDIDATES_PER_ITEM = 20  # new articles fetched per digest item, room for filters, caps and stories
_SCALE = tuple(BiasRating)
_SIDES = {"left": frozenset({BiasRating.LEFT, BiasRating.LEAN_LEFT}),
          "right": frozenset({BiasRating.RIGHT, BiasRating.LEAN_RIGHT})}


@dataclass(frozen=True)
class Story:
    """The articles of one story that a chat can see: the best summary first, then newest first."""

    articles: tuple[Article, ...]

    @property
    def best(self) -> Article:
        return self.articles[0]

    @property
    def text(self) -> str:
        """Every article's words: a filter word anywhere in the coverage concerns the story."""
        return " ".join(_text(a) for a in self.articles)

    def outlets(self, sources: Mapping[int, Source]) -> list[Source]:
        """Each outlet once, left to right along the rating scale."""
        unique = {a.source_id: sources[a.source_id] for a in self.articles}
        return sorted(unique.values(), key=lambda s: (_SCALE.index(s.bias), s.name.lower()))


def _completeness(article: Article) -> tuple[int, float, int]:
    """The best summary has the most key points, then is the newest."""
    when = article.published_at or article.stored_at
    return len(article.key_points), when.timestamp(), article.id


def group_stories(articles: Iterable[Article]) -> list[Story]:
    """Articles grouped by story, each story where its first article was; repeats are dropped."""
    groups: dict[int, dict[int, Article]] = {}
    for article in articles:
        groups.setdefault(article.story, {}).setdefault(article.id, article)
    stories = []
    for members in groups.values():
        best = max(members.values(), key=_completeness)
        rest = [a for a in members.values() if a.id != best.id]
        stories.append(Story((best, *rest)))
    return stories


def blind_spot(ratings: Iterable[BiasRating]) -> str | None:
    """'left' or 'right' when only that side of the scale (and its leaning outlets) reported it."""
    found = set(ratings)
    for side, members in _SIDES.items():
        if found and found <= members:
            return side
    return None


@dataclass(frozen=True)
class Digest:
    articles: tuple[Article, ...]  # the chosen stories' articles, story by story
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


def select(candidates: Sequence[Article], sources: Mapping[int, Source], options: DigestOptions) -> list[Article]:
    """Pick stories: outlet and keyword filters, the per-outlet cap, the item count, optionally balance.

    `candidates` arrive newest first; a story stands where its first candidate is and all of its
    candidates make its coverage. The per-outlet cap counts the outlet whose summary is shown.
    Returns the chosen stories' articles, story by story, each best summary first.
    """
    include, exclude = _word_pattern(options.include), _word_pattern(options.exclude)
    wanted = set(options.sources)
    stories = [
        s for s in group_stories(a for a in candidates if not wanted or a.source_id in wanted)
        if (include is None or include.search(s.text)) and (exclude is None or not exclude.search(s.text))
    ]
    per_source: Counter[int] = Counter()
    capped = []
    for story in stories:
        if per_source[story.best.source_id] < options.per_source:
            per_source[story.best.source_id] += 1
            capped.append(story)
    chosen = _balanced(capped, sources, options.items) if options.balanced else capped[: options.items]
    return [a for story in chosen for a in story.articles]


def _balanced(stories: list[Story], sources: Mapping[int, Source], items: int) -> list[Story]:
    """Each pick serves the rating the digest has covered least so far, among the ratings the
    remaining stories still offer, with the newest story that covers it; a story counts for every
    rating among its outlets. So each rating present gets as even a share as the day's news allows."""
    ratings = {id(s): {o.bias for o in s.outlets(sources)} for s in stories}
    pool = list(stories)
    covered: Counter[BiasRating] = Counter()
    chosen: list[Story] = []
    while pool and len(chosen) < items:
        offered = set().union(*(ratings[id(s)] for s in pool))
        target = min(offered, key=lambda r: (covered[r], _SCALE.index(r)))
        pick = next(s for s in pool if target in ratings[id(s)])
        pool.remove(pick)
        chosen.append(pick)
        covered.update(ratings[id(pick)])
    order = {id(s): i for i, s in enumerate(stories)}
    return sorted(chosen, key=lambda s: order[id(s)])


async def build_digest(repo: Repository, scope: str | None, options: DigestOptions, after_id: int) -> Digest:
    """Stories with news since `after_id`, each with all its coverage the chat can see."""
    cursor = await repo.max_article_id()
    fresh = await repo.articles_after(
        scope, after_id, options.items * CANDIDATES_PER_ITEM, source_ids=options.sources
    )
    coverage = await repo.story_articles(scope, {a.story for a in fresh}, source_ids=options.sources)
    candidates = [*fresh, *coverage]
    sources = await repo.sources_by_id({a.source_id for a in candidates})
    chosen = select(candidates, sources, options)
    return Digest(tuple(chosen), sources, cursor)


def _balance(outlets: Mapping[BiasRating, set[int]]) -> BalanceLine:
    return BalanceLine(tuple((r, len(outlets[r])) for r in BiasRating if outlets[r]))


def item_lines(articles: Iterable[Article], sources: Mapping[int, Source]) -> list[Part]:
    """A digest's items: one per story (articles grouped by story, in order), closed by the count
    of outlets per rating over every outlet that covered them."""
    parts: list[Part] = []
    outlets: dict[BiasRating, set[int]] = defaultdict(set)
    for story in group_stories(articles):
        covering = story.outlets(sources)
        for outlet in covering:
            outlets[outlet.bias].add(outlet.id)
        best, shown = story.best, sources[story.best.source_id]
        parts.append(ItemLine(best.id, best.title, best.url, shown.name, shown.bias, best.lead,
                              covered_by=tuple((o.name, o.bias) for o in covering),
                              blind_spot=blind_spot(o.bias for o in covering)))
    if parts:
        parts.append(_balance(outlets))
    return parts


def article_lines(articles: Iterable[Article], sources: Mapping[int, Source]) -> list[Part]:
    """One line per article (/latest, /search, /story), closed by the count of outlets per rating."""
    parts: list[Part] = []
    outlets: dict[BiasRating, set[int]] = defaultdict(set)
    for article in articles:
        source = sources[article.source_id]
        outlets[source.bias].add(source.id)
        parts.append(ItemLine(article.id, article.title, article.url, source.name, source.bias, article.lead))
    if parts:
        parts.append(_balance(outlets))
    return parts


def article_card(article: Article, source: Source) -> ArticleCard:
    return ArticleCard(
        article.id, article.title, article.url, source.name, source.bias, article.lead,
        article.key_points, article.published_at, article.ai_generated,
    )


def source_card(source: Source, original_url: str | None = None) -> SourceCard:
    return SourceCard(source.id, source.name, source.description, source.bias, source.website,
                      source.feed_url, original_url, source.health)
