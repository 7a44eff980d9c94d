"""The neutral reply vocabulary: what the core says, before any platform decides how it looks.

A reply is a sequence of parts. Renderers turn each part into one or more chunks and pack chunks
into messages, so a message only ever breaks between parts, never inside one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from bot.model import BiasRating


@dataclass(frozen=True)
class Notice:
    """A short sentence: an answer, a refusal, a usage line."""

    text: str


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class ItemLine:
    """One line of a list: an article (/latest, /search) or a story told by one article (a digest)."""

    article_id: int
    title: str
    url: str | None
    outlet: str
    rating: BiasRating
    lead: str
    covered_by: tuple[tuple[str, BiasRating], ...] = ()  # a story's outlets, left to right on the scale
    blind_spot: str | None = None  # "left" or "right": only that side of the scale reported the story


@dataclass(frozen=True)
class ArticleCard:
    article_id: int
    title: str
    url: str | None
    outlet: str
    rating: BiasRating
    lead: str
    key_points: tuple[str, ...]
    published_at: datetime | None
    ai_generated: bool


@dataclass(frozen=True)
class SourceCard:
    source_id: int
    name: str
    description: str
    rating: BiasRating
    website: str | None
    feed_url: str | None
    original_url: str | None = None  # set when asked about one article
    status: str = ""


@dataclass(frozen=True)
class SourceLine:
    source_id: int
    name: str
    rating: BiasRating
    status: str = ""


@dataclass(frozen=True)
class BalanceLine:
    """How many distinct outlets of each rating the list above drew on."""

    counts: tuple[tuple[BiasRating, int], ...]


Part = Notice | Heading | ItemLine | ArticleCard | SourceCard | SourceLine | BalanceLine


@dataclass(frozen=True)
class Reply:
    parts: tuple[Part, ...]
    ephemeral: bool = False  # only the asker sees it, where the platform can do that
    silent: bool = False  # no notification sound
    previews: bool = False  # link previews

    @classmethod
    def notice(cls, text: str, ephemeral: bool = False) -> Reply:
        return cls((Notice(text),), ephemeral=ephemeral)

    @property
    def text(self) -> str:
        """The notices joined, for logs and tests."""
        return "\n".join(p.text for p in self.parts if isinstance(p, Notice))

    @property
    def checksum(self) -> str:
        """Short and stable across processes: replies with the same checksum render alike, so a
        retry may go on after the messages an earlier attempt delivered."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:32]
