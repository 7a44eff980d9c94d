"""The domain vocabulary: sources, article summaries, subscriptions and the delivery ledger.

Plain frozen dataclasses so that storage, the core and every adapter share one shape and no
layer can mutate another's copy behind its back.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


class BiasRating(enum.StrEnum):
    """The AllSides media-bias scale, plus 'unrated' for outlets nobody has rated yet."""

    LEFT = "left"
    LEAN_LEFT = "lean left"
    CENTER = "center"
    LEAN_RIGHT = "lean right"
    RIGHT = "right"
    MIXED = "mixed"
    UNRATED = "unrated"

    @classmethod
    def parse(cls, text: str) -> BiasRating:
        """Accept the forms people type: 'Lean Left', 'lean-left', 'LL', 'center', 'centre', and
        the other scales' words for the same places ('left-center', 'not rated')."""
        key = " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
        key = _RATING_ALIASES.get(key, key)
        for rating in cls:
            if key in (rating.value, rating.code.lower()):
                return rating
        raise ValueError(
            f"unknown bias rating {text.strip()!r}; use one of: " + ", ".join(r.value for r in cls)
        )

    @property
    def label(self) -> str:
        return self.value.title()

    @property
    def code(self) -> str:
        """Short form for compact lines: L, LL, C, LR, R, M, ?."""
        return _RATING_CODES[self]


_RATING_ALIASES = {"centre": "center", "left center": "lean left", "center left": "lean left",
                   "left centre": "lean left", "centre left": "lean left", "right center": "lean right",
                   "center right": "lean right", "right centre": "lean right", "centre right": "lean right",
                   "not rated": "unrated", "none": "unrated"}

_RATING_CODES = {
    BiasRating.LEFT: "L",
    BiasRating.LEAN_LEFT: "LL",
    BiasRating.CENTER: "C",
    BiasRating.LEAN_RIGHT: "LR",
    BiasRating.RIGHT: "R",
    BiasRating.MIXED: "M",
    BiasRating.UNRATED: "?",
}


@dataclass(frozen=True)
class ChatRef:
    """Where a message goes: a chat on one platform, optionally a thread or forum topic in it."""

    platform: str
    chat_id: str
    thread_id: str | None = None

    @property
    def scope(self) -> str:
        """The key that chat-scoped sources and subscriptions are filed under."""
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True)
class UserRef:
    platform: str
    user_id: str
    name: str = ""

    @property
    def key(self) -> str:
        """The form operators are listed in NEWSDIGEST_ADMINS: 'telegram:123'."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class OutletInfo:
    """What a summary says about its outlet; becomes or updates a Source."""

    name: str
    description: str = ""
    website: str | None = None
    bias: BiasRating = BiasRating.UNRATED


@dataclass(frozen=True)
class Source:
    id: int
    name: str
    description: str = ""
    website: str | None = None
    feed_url: str | None = None
    bias: BiasRating = BiasRating.UNRATED
    scope: str | None = None  # None = global; otherwise ChatRef.scope of the one chat that owns it
    enabled: bool = True
    disabled_reason: str | None = None
    poll_interval: int = 900  # seconds between polls of feed_url
    failures: int = 0  # consecutive failed polls
    last_error: str | None = None
    last_polled_at: datetime | None = None
    next_poll_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def outlet(self) -> OutletInfo:
        return OutletInfo(self.name, self.description, self.website, self.bias)

    @property
    def health(self) -> str:
        """One phrase for /sources: empty when all is well."""
        if not self.enabled:
            return f"disabled: {self.disabled_reason or 'by an admin'}"
        if self.failures:
            return f"failing ({self.failures}x): {self.last_error}"
        return ""


PUBLISHED_RANGE = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def plausible_time(published: datetime) -> bool:
    """A publish time a summary can have; others (year 1, year 9999) are typing slips, and some
    cannot even be read back once stored in UTC."""
    return PUBLISHED_RANGE[0] <= published < PUBLISHED_RANGE[1]


@dataclass(frozen=True)
class ArticleDraft:
    """A summary as parsed from a file or feed, before storage gives it an id."""

    title: str
    lead: str
    outlet: OutletInfo
    key_points: tuple[str, ...] = ()
    url: str | None = None
    published_at: datetime | None = None
    ai_generated: bool = False
    guid: str | None = None


@dataclass(frozen=True)
class Article:
    id: int
    source_id: int
    title: str
    lead: str
    key_points: tuple[str, ...]
    url: str | None
    published_at: datetime | None
    ai_generated: bool
    dedupe_key: str
    stored_at: datetime
    story_id: int = 0  # the first article of its story; 0 when not known (built by hand)

    @property
    def story(self) -> int:
        """The story it belongs to: an article with no story recorded is a story of its own."""
        return self.story_id or self.id


def dedupe_key(canonical_url: str | None, guid: str | None, source_name: str, title: str) -> str:
    """Stable identity of a summary: its canonical URL, else its GUID, else outlet and title."""
    if canonical_url:
        basis = "url:" + canonical_url
    elif guid:
        basis = f"guid:{source_name.lower()}:{guid}"
    else:
        basis = f"title:{source_name.lower()}:{' '.join(title.lower().split())}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Schedule:
    """Local times of day and weekdays (0 = Monday) in one IANA zone."""

    times: tuple[str, ...] = ("08:00",)
    days: frozenset[int] = frozenset(range(7))
    timezone: str = "UTC"


@dataclass(frozen=True)
class DigestOptions:
    items: int = 8
    per_source: int = 3
    sources: tuple[int, ...] = ()  # empty = every source the chat can see
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    balanced: bool = False
    quiet: bool = False
    previews: bool = False
    announce_empty: bool = False


@dataclass(frozen=True)
class Subscription:
    id: int
    chat: ChatRef
    schedule: Schedule
    options: DigestOptions = field(default_factory=DigestOptions)
    enabled: bool = True
    disabled_reason: str | None = None
    next_due_at: datetime | None = None
    last_article_id: int = 0


class DeliveryStatus(enum.StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Delivery:
    """One ledger row: a subscription's scheduled slot, claimed before sending."""

    id: int
    subscription_id: int
    slot_at: datetime
    status: DeliveryStatus
    message_ids: tuple[str, ...] = ()
    error: str | None = None
    article_ids: tuple[int, ...] = ()  # fixed at claim time, so a resend repeats the same digest
    cursor: int = 0  # newest article id considered; the subscription moves past it once sent
    attempts: int = 0
    reply_checksum: str | None = None  # the reply `message_ids` belong to
