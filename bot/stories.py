"""Deciding whether two summaries report the same story: pure functions, no storage.

A story is the same event told by several outlets, usually in different words. Word overlap alone
cannot tell "dockers strike at Aldwick" from "dockers strike at Bremlin" (same words, different
story), so a match needs two things:

- who or where: a name from one summary's headline or opening sentence (the people, places and
  organisations it is about) is named in the other. Names are compared with RapidFuzz, so
  "Port Aldwick" meets "Aldwick" and "Elsa Marnik" meets "Governor Elsa Marnik", but "Green
  Alliance" does not meet "Green Party". A name in most stored articles (the country a local bot
  follows) says nothing and does not count;
- what: the TF-IDF cosine of the two summaries' content words (Snowball stems; nouns whose
  commonest WordNet sense is the same are one word, so "dockers" meet "stevedores" and "quake"
  meets "earthquake"; headline and lead weigh more than key points), name words and figures
  (3.75%, €210m, 1,800), on average over the story's closest reports that share the name,
  reaches STORY_THRESHOLD. Document frequencies come from every stored article, kept up to date as
  articles are stored, so words every story uses count for little.

Storage finds the candidates (recent articles sharing a name word) and keeps the frequencies;
file_stories decides, for a batch of new articles, which stories each one reports. It links every
story it reaches, not only the best, and those stories merge: that makes the stories depend less
on the order the articles come in.
"""

from __future__ import annotations

import importlib.metadata
import math
import re
import zlib
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, cached_property, lru_cache
from importlib import resources
from statistics import fmean
from typing import NamedTuple

import snowballstemmer
from rapidfuzz import fuzz, process

STORY_WINDOW = timedelta(hours=48)  # articles further apart than this are never one story
# a new report's mean cosine with a story's closest reports, chosen on tests/data/story_pairs.jsonl
STORY_THRESHOLD = 0.105
MAX_CANDIDATES = 50  # recent articles scored per new article, those sharing the most name words first
BATCH_PEERS = 4 * MAX_CANDIDATES  # a batch's articles per name word, nearest in time, that a later one looks among
CLOSEST_REPORTS = 5  # a story's reports a new one is averaged over: its closest, as a long story ranges widely
NAME_MATCH = 90  # RapidFuzz token-set score at which two names are the same name
COMMON_NAME = 0.5  # a name word in more than this share of stored articles is too common to match on,
COMMON_NAME_MIN = 20  # once in more than this many: in a young store, one story's reports are most articles
NAME_WEIGHT = 0.5  # a name word's weight in the vector, against 1 for a key-point word
FIGURE_WEIGHT = 1.5
DOCUMENTS = "*"  # the frequency table's entry counting the articles themselves

_FIELD_WEIGHTS = (2.0, 1.0, 0.3)  # headline, lead, key points: the event is in the first two
_GENERIC_WEIGHT = 0.3

_STOPWORDS = frozenset("""
a about according after again against all also an and any are around as at be been before being but by
can could did do does down during each every few first for from further had has have he her here him his
how i if in into is it its just last less least many may might more most much must near new next no nor
not of off on once one only onto or other our out over own per same says said say shall she should since
so some still such than that the their them then there these they this those through to too told two
three four five six seven eight nine ten under until up very was we were what when where which while who
whom whose why will with would year years day days week weeks you your
monday tuesday wednesday thursday friday saturday sunday january february march april june july august
september october november december mr mrs ms dr cent percent million billion bn
""".split())
# Words every news story uses: they count, but little.
_GENERIC = frozenset("""
government people company companies official officials minister ministers state country national public
report reported reports group groups time times morning evening night today month plan plans local town
city region area leader leaders number part make made take took give given expected expect warned warn
called call news statement
""".split())
_TITLES = frozenset("minister prime president governor mayor chief secretary king queen maker".split())
_CONNECTORS = frozenset(("of", "de", "and", "for", "the"))

_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
# The lookahead lets the regex engine skip quickly to where a figure can start.
_FIGURE = re.compile(r"(?=[$€£¥\d])([$€£¥])?(\d+(?:[.,]\d+)*)(\s?(?:%|per ?cent|percent))?", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’](?<=[^\W\d_].)s\b")  # the quote first: the regex engine scans for it fast
_DIGIT_COMMA = re.compile(r",(?<=\d,)(?=\d)")
_POSSESSIVE_START = re.compile(r"[^\W\d_]+['’]s\b")
_stemmer = snowballstemmer.stemmer("english")


def _synonyms() -> tuple[dict[str, str], str]:
    """Stem -> the WordNet sense it is read as (bot/data/synonyms.tsv, built by
    bot/data/build_synonyms.py: outlets tell one event in different words), and the table's checksum."""
    table = resources.files("bot").joinpath("data/synonyms.tsv").read_bytes()
    rows = (line.strip().partition("\t") for line in table.decode("utf-8").splitlines())
    senses = {stem: sense.strip() for stem, _, sense in rows if stem and sense and not stem.startswith("#")}
    return senses, f"{zlib.crc32(table):08x}"


_SYNONYMS, _TABLE_CHECKSUM = _synonyms()
# How fingerprint() reads words: the number goes up with every change to its rules (raise it when
# you change them), then the stemmer's version and the synonym table's checksum. Storage counts
# its document frequencies again when this changes.
FEATURES = f"2/{importlib.metadata.version('snowballstemmer')}/{_TABLE_CHECKSUM}"
_STOP_STEMS = frozenset(_stemmer.stemWords(sorted(_STOPWORDS)))
_GENERIC_STEMS = frozenset(_stemmer.stemWords(sorted(_GENERIC)))
_GENERIC_FEATURES = frozenset(_SYNONYMS.get(stem, stem) for stem in _GENERIC_STEMS)


@lru_cache(maxsize=65536)
def _term(word: str) -> tuple[str, float] | None:
    """A content word's feature, its stem or the sense it shares with other stems, and its weight
    factor; None for a function word ("says"), which is stopped before any synonym is read. A
    feature is generic for every word it stands for."""
    stem = _stemmer.stemWord(word)
    if stem in _STOP_STEMS:
        return None
    feature = _SYNONYMS.get(stem, stem)
    return feature, _GENERIC_WEIGHT if feature in _GENERIC_FEATURES else 1.0


@dataclass(frozen=True)
class Fingerprint:
    """What one summary (or a whole story) is about, in comparable form."""

    names: tuple[str, ...]  # every proper name, lower case: "port aldwick", "elsa marnik"
    primary: tuple[str, ...]  # the names in the headline and opening sentence
    figures: frozenset[str]
    terms: Mapping[str, float] = field(default_factory=dict)  # content stem -> weight

    @cached_property
    def keys(self) -> frozenset[str]:
        """Index keys: every word of every name. Two articles can only match if they share one."""
        return frozenset(word for name in self.names for word in name.split() if word not in _CONNECTORS)

    @cached_property
    def features(self) -> Mapping[str, float]:
        """The weighted words a summary is compared on, before document frequencies: content stems,
        name words ("name:aldwick") and figures ("figure:3.75%"). Also what the frequency table
        counts. Read for every comparison, so made once."""
        vector = dict(self.terms)
        for key in self.keys:
            vector["name:" + key] = NAME_WEIGHT
        for figure in self.figures:
            vector["figure:" + figure] = FIGURE_WEIGHT
        return vector


def _words(text: str) -> list[str]:
    """Words and numbers, "1,800" read as 1800 and "Varnholm's" as Varnholm."""
    return _WORD.findall(_POSSESSIVE.sub("", _DIGIT_COMMA.sub("", text)))


class _Sentence:
    """A sentence split into words once, with their lower-case forms: every reading uses both."""

    __slots__ = ("text", "words", "lower")

    def __init__(self, text: str) -> None:
        self.text = text
        self.words = _words(text)
        self.lower = " ".join(self.words).lower().split(" ") if self.words else []  # no word holds a space


def _sentences(text: str) -> list[_Sentence]:
    return [_Sentence(s) for s in _SENTENCE_END.split(text.strip()) if s]


def _title_case(words: Sequence[str]) -> bool:
    """Headlines Like This say nothing about which words are names."""
    long_words = [w for w in words if len(w) > 3 and not w[0].isdigit()]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) / len(long_words) >= 0.6


def _names(sentence: _Sentence) -> list[str]:
    """Runs of capitalised words, joined across one connector ("National Bank of Varnholm"). A
    sentence's first word counts only when a name follows it or it is possessive ("Varnholm's"),
    since every sentence starts with a capital."""
    lower = sentence.lower
    capitals = [i for i, word in enumerate(sentence.words) if word[0].isupper() and lower[i] not in _STOPWORDS]
    runs: list[list[int]] = []
    for i in capitals:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        elif runs and i == runs[-1][-1] + 2 and lower[i - 1] in _CONNECTORS:
            runs[-1] += (i - 1, i)
        else:
            runs.append([i])
    names = []
    for found in runs:
        while found and lower[found[-1]] in _CONNECTORS:  # a capitalised "De" ending a run
            found = found[:-1]
        while len(found) > 1 and lower[found[0]] in _TITLES:
            found = found[1:]
        if not found or (found == [0] and not _POSSESSIVE_START.match(sentence.text.strip())) \
                or _a_unit(lower, found):
            continue
        names.append(" ".join(lower[i] for i in found))
    return names


def _a_unit(lower: Sequence[str], found: Sequence[int]) -> bool:
    """A lone letter right after a figure is the figure's unit (the C of 44.6C), not a name."""
    return len(found) == 1 and len(lower[found[0]]) == 1 and found[0] > 0 and lower[found[0] - 1][0].isdigit()


def _figures(texts: Iterable[str]) -> frozenset[str]:
    """Amounts, percentages and numbers of two digits or more: the details outlets copy exactly."""
    found = set()
    for text in texts:
        for currency, number, percent in _FIGURE.findall(text):
            number = number.replace(",", "")
            if percent:
                found.add(number + "%")
            elif currency or "." in number or len(number) >= 2:
                found.add(number)
    return frozenset(found)


@lru_cache(maxsize=4096)
def fingerprint(title: str, lead: str, key_points: tuple[str, ...]) -> Fingerprint:
    """The names, figures and weighted content stems of one summary.

    Cached: the same recent articles are candidates for many new ones. Treat the result as frozen.
    A change to what it returns for a text needs a new number in FEATURES, so that stored
    document frequencies are counted again.
    Every sentence is split into words once; names and terms are both read from those words.
    """
    title_sentences, lead_sentences = _sentences(title), _sentences(lead)
    point_sentences = [sentence for point in key_points for sentence in _sentences(point)]
    title_words = [word for sentence in title_sentences for word in sentence.words]
    headline_case = _title_case(title_words)
    primary = [n for sentence in (*([] if headline_case else title_sentences), *lead_sentences[:1])
               for n in _names(sentence)]
    names = set(primary)
    for sentence in (*lead_sentences[1:], *point_sentences):
        names.update(_names(sentence))
    if headline_case:
        in_title = {w.lower() for w in title_words}
        primary += [n for n in names if in_title & set(n.split())]
    skipped = _STOPWORDS.union(w for n in names for w in n.split())
    terms: dict[str, float] = {}
    # a word weighs what the first field it appears in gives it: the weights only go down
    for sentences, weight in zip((title_sentences, lead_sentences, point_sentences), _FIELD_WEIGHTS, strict=True):
        fresh = {low for sentence in sentences for low in sentence.lower} - skipped
        skipped |= fresh
        for lower in sorted(fresh):
            if lower[0].isdigit():
                continue
            term = _term(lower)
            if term:  # synonyms share a feature, which weighs what the weightiest of them gives it
                terms[term[0]] = max(terms.get(term[0], 0.0), weight * term[1])
    return Fingerprint(tuple(sorted(names)), tuple(sorted(set(primary))), _figures((title, lead, *key_points)),
                       terms)


@dataclass(frozen=True)
class Frequencies:
    """How many stored articles have each feature, and how many there are (DOCUMENTS)."""

    counts: Mapping[str, int]

    @property
    def documents(self) -> int:
        return self.counts.get(DOCUMENTS, 0)

    def idf(self, feature: str) -> float:
        """Smoothed so that the first few articles already weigh words sensibly."""
        return math.log((self.documents + 10) / (self.counts.get(feature, 0) + 1))

    def rare(self, name: str) -> bool:
        limit = max(COMMON_NAME_MIN, COMMON_NAME * self.documents)
        return any(self.counts.get("name:" + w, 0) <= limit for w in name.split() if w not in _CONNECTORS)


class _Side:
    """One summary's side of comparisons: its telling names, and its weighted features (computed
    only for candidates that share a telling name), kept for every comparison it is in."""

    def __init__(self, print_: Fingerprint, frequencies: Frequencies, rare: Callable[[str], bool]) -> None:
        self.print = print_
        self.frequencies = frequencies
        self.telling = [name for name in print_.primary if rare(name)]

    @cached_property
    def vector(self) -> dict[str, float]:
        return {f: w * self.frequencies.idf(f) for f, w in self.print.features.items()}

    @cached_property
    def square(self) -> float:
        return sum(x * x for x in self.vector.values())


def _matching(names: Iterable[str], owned: Sequence[tuple[int, str]]) -> set[int]:
    """The owners (positions) of the `(owner, name)` names that one of `names` meets."""
    choices = [name for _, name in owned]
    return {owned[index][0] for name in names
            for _, _, index in process.extract(name, choices, scorer=fuzz.token_set_ratio,
                                                score_cutoff=NAME_MATCH, limit=None)}


def _sharing_a_name(side: _Side, others: Sequence[_Side]) -> set[int]:
    """Which of `others` a telling name ties to `side`, either way round: one matching call per
    name of `side` over all the others' names at once, however many candidates there are."""
    named = _matching(side.telling, [(i, name) for i, other in enumerate(others) for name in other.print.names])
    return named | _matching(side.print.names, [(i, name) for i, other in enumerate(others)
                                                for name in other.telling])


def _cosine(a: _Side, b: _Side) -> float:
    va, vb = a.vector, b.vector
    dot = sum(va[f] * vb[f] for f in va.keys() & vb.keys())
    norm = math.sqrt(a.square * b.square)
    return dot / norm if norm else 0.0


def _sides(prints: Iterable[Fingerprint], frequencies: Frequencies) -> list[_Side]:
    rare = cache(frequencies.rare)  # candidates of one story share their names
    return [_Side(print_, frequencies, rare) for print_ in prints]


def similarity(a: Fingerprint, b: Fingerprint, frequencies: Frequencies) -> float:
    """0 unless they share a telling name; otherwise the TF-IDF cosine of their features."""
    side, other = _sides((a, b), frequencies)
    return _cosine(side, other) if _sharing_a_name(side, [other]) else 0.0


def linked_stories(new: Fingerprint, candidates: Sequence[tuple[int, Fingerprint]],
                   frequencies: Frequencies) -> set[int]:
    """The stories (ids) among the recent `(story id, fingerprint)` candidates that the new article
    reports: it joins one of them and the others merge into it. An article often bridges two
    accounts of one event that were too differently worded to meet each other (a walkout and a
    strike at the same port); none means it starts a story of its own.

    A story is reached when the new article's mean cosine with the closest CLOSEST_REPORTS of its
    candidates that share a telling name reaches STORY_THRESHOLD. A mean, not the best match,
    because other news of the same firm or town (job cuts the day after its rocket landed) can come
    as close to one report of a story as another report of it would, but not to the story as a
    whole; only the closest, because a long story ranges over more than any one new report does.
    The price: a story merged from two accounts is harder to join for a report that meets only one
    of them."""
    side, *others = _sides((new, *(print_ for _, print_ in candidates)), frequencies)
    scores: dict[int, list[float]] = {}
    for i in sorted(_sharing_a_name(side, others)):
        scores.setdefault(candidates[i][0], []).append(_cosine(side, others[i]))
    return {story_id for story_id, found in scores.items()
            if fmean(sorted(found, reverse=True)[:CLOSEST_REPORTS]) >= STORY_THRESHOLD}


class Candidate(NamedTuple):
    """A recent article a new one may report the same story as."""

    shared: int  # name words it shares with the new article: candidates sharing most come first
    article_id: int
    story_id: int
    print: Fingerprint


def file_stories(articles: Sequence[tuple[int, int, Fingerprint]], stored: Sequence[Sequence[Candidate]],
                 counts: dict[str, int]) -> tuple[list[int], dict[int, int]]:
    """The story each new `(id, sort_at, fingerprint)` article joins (its own id when it starts
    one), and the stored stories merged on the way: old story id -> the story it is now part of.

    `stored[n]` are the stored candidates of article n, at most MAX_CANDIDATES; the articles of the
    batch before it within the window (the BATCH_PEERS nearest in time per name word) compete with
    them for those places, as if each had been stored on its own.
    `counts` are the document frequencies before the batch, counted up here article by article.
    Merged stories take the smallest id among them: their first article's.
    """
    window = STORY_WINDOW.total_seconds()
    frequencies = Frequencies(counts)
    merged: dict[int, int] = {}  # story id -> the story it was merged into, followed to the end by story()

    def story(story_id: int) -> int:
        while story_id in merged:
            story_id = merged[story_id]
        return story_id

    stories: list[int] = []
    # name word -> (time, position) of this batch's articles so far, in time order; only the nearest
    # in time are looked at: a big import of undated news, all in one window, would otherwise
    # compare each article with every one before it
    earlier: dict[str, list[tuple[int, int]]] = {}

    def peers(key: str, sort_at: int) -> list[tuple[int, int]]:
        timeline = earlier.get(key, [])
        low = bisect_left(timeline, (sort_at - window, -1))
        high = bisect_right(timeline, (sort_at + window, len(articles)))
        start = max(low, min(bisect_left(timeline, (sort_at, -1), low, high) - BATCH_PEERS // 2, high - BATCH_PEERS))
        return timeline[start:start + BATCH_PEERS] if high - low > BATCH_PEERS else timeline[low:high]

    for n, (article_id, sort_at, print_) in enumerate(articles):
        near = Counter(m for key in print_.keys for _, m in peers(key, sort_at))
        ranked = sorted([*stored[n], *(Candidate(shared, articles[m][0], stories[m], articles[m][2])
                                       for m, shared in near.items())],
                        key=lambda c: (-c.shared, -c.article_id))[:MAX_CANDIDATES]
        linked = linked_stories(print_, [(story(c.story_id), c.print) for c in ranked], frequencies)
        joined = min(linked, default=article_id)
        merged |= {other: joined for other in linked if other != joined}
        stories.append(joined)
        for key in print_.keys:
            insort(earlier.setdefault(key, []), (sort_at, n))
        for feature in {DOCUMENTS, *print_.features}:
            counts[feature] = counts.get(feature, 0) + 1
    return [story(s) for s in stories], {old: story(old) for old in merged}
