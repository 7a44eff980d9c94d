"""The storage contract the core depends on, so another backend can be added beside SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from datetime import datetime

from bot.model import (Article, ArticleDraft, BiasRating, ChatRef, Delivery, DeliveryStatus, DigestOptions, Schedule,
                       Source, Subscription)


@dataclass
class StoreResult:
    """What one batch of drafts did to the store."""

    new_ids: list[int] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0

    @property
    def new(self) -> int:
        return len(self.new_ids)


@dataclass(frozen=True)
class SlotPlan:
    """What the dispatcher decided for one due subscription, written before anything is sent."""

    subscription: Subscription
    slot_at: datetime  # the slot to send; or, when send is False, the latest slot, skipped
    next_due_at: datetime
    send: bool
    article_ids: tuple[int, ...] = ()
    cursor: int = 0
    skipped: tuple[datetime, ...] = ()  # older slots, recorded as skipped
    reason: str = ""  # why slots are skipped


class DuplicateSource(ValueError):
    """A source with that name or feed already exists where the new one would be visible."""


class SourceRemoved(LookupError):
    """The source a feed was polled for was removed meanwhile: its entries are not stored."""


class Repository(Protocol):
    async def close(self) -> None: ...

    # sources
    async def add_source(
        self,
        name: str,
        *,
        feed_url: str | None = None,
        description: str = "",
        website: str | None = None,
        bias: BiasRating = BiasRating.UNRATED,
        scope: str | None = None,
        poll_interval: int = 900,
    ) -> Source: ...

    async def get_source(self, source_id: int) -> Source | None: ...

    async def find_source(self, ref: str, scope: str | None) -> Source | None:
        """A source visible in `scope` (global or owned by it), by id or by name."""
        ...

    async def list_sources(self, scope: str | None) -> list[Source]: ...

    async def all_sources(self) -> list[Source]:
        """Every source of every chat: the operator's view."""
        ...

    async def source_scopes(self) -> set[str]:
        """The chats that own sources of their own (all other chats see the same sources)."""
        ...

    async def sources_by_id(self, ids: Iterable[int]) -> dict[int, Source]: ...

    async def due_feeds(self, now: datetime, limit: int) -> list[Source]:
        """Enabled sources with a feed whose next poll time has come."""
        ...

    async def record_poll(self, source_id: int, now: datetime, next_poll_at: datetime, *, etag: str | None = None,
                          last_modified: str | None = None) -> None: ...

    async def record_failure(self, source_id: int, now: datetime, next_poll_at: datetime, error: str,
                             failures: int, disable: bool = False) -> None:
        """`failures`: the count this failure makes. Two pollers of the same round count it once."""
        ...

    async def set_source_enabled(self, source_id: int, enabled: bool, reason: str | None = None) -> None: ...

    async def set_bias(self, source_id: int, bias: BiasRating) -> None: ...

    async def remove_source(self, source_id: int) -> int:
        """Remove a source and its articles, and take it out of digests' source filters (one left
        empty follows every source); returns how many filters named it."""
        ...

    # articles
    async def store_articles(self, drafts: Sequence[ArticleDraft], scope: str | None = None,
                             feed: int | None = None) -> StoreResult:
        """Store drafts in one transaction, filing each under its outlet's source in `scope`.

        The same GUID (per source) or the same canonical URL is the same article: a changed
        copy updates it in place and keeps its id, so it is not announced again. `feed`: the
        source whose feed brought them; if it was removed meanwhile, SourceRemoved and nothing
        stored (its outlets would otherwise come back as new sources).
        """
        ...

    async def get_article(self, article_id: int) -> Article | None: ...

    async def latest_articles(self, scope: str | None, limit: int) -> list[Article]: ...

    async def search_articles(self, scope: str | None, words: Sequence[str], limit: int) -> list[Article]: ...

    async def articles_after(
        self, scope: str | None, after_id: int, limit: int, source_ids: Sequence[int] = ()
    ) -> list[Article]:
        """Articles stored after `after_id`, newest first: what a digest may contain."""
        ...

    async def max_article_id(self) -> int: ...

    async def articles_by_id(self, ids: Sequence[int]) -> list[Article]:
        """In the order asked for; ids that no longer exist are left out."""
        ...

    async def story_articles(self, scope: str | None, story_ids: Iterable[int],
                             source_ids: Sequence[int] = ()) -> list[Article]:
        """Every article of these stories visible in `scope` (optionally only from `source_ids`),
        newest first. store_articles files each new article under a story as it stores it."""
        ...

    # subscriptions

    async def get_subscription(self, chat: ChatRef) -> Subscription | None: ...

    async def get_subscription_by_id(self, subscription_id: int) -> Subscription | None: ...

    async def save_subscription(self, chat: ChatRef, schedule: Schedule, next_due_at: datetime) -> Subscription:
        """Create or reschedule (and re-enable) the chat's subscription; its options are kept."""
        ...

    async def set_options(self, subscription_id: int, options: DigestOptions) -> None: ...

    async def remove_subscription(self, chat: ChatRef) -> bool: ...

    async def due_subscriptions(self, now: datetime, limit: int, platforms: Sequence[str],
                                exclude: Sequence[int] = ()) -> list[Subscription]: ...

    # the delivery ledger

    async def record_slots(self, plans: Sequence[SlotPlan], now: datetime) -> list[Delivery | None]:
        """Claim (or skip) each planned slot before anything is sent, in one transaction.

        Returns, per plan, the claimed delivery, or None when the plan only skips or the slot
        was already claimed (by another dispatcher, or before a restart). A claimed slot
        supersedes its subscription's older slots still waiting for a retry: they are skipped.
        """
        ...

    async def finish_delivery(self, delivery: Delivery, status: DeliveryStatus, now: datetime,
                              message_ids: Sequence[str] = (), error: str | None = None,
                              retry_at: datetime | None = None, reply_checksum: str | None = None) -> None: ...

    async def reclaim_deliveries(self, now: datetime, stale_before: datetime, limit: int) -> list[Delivery]:
        """Slots to send again: failed ones due for retry, and ones a dead process left 'sending'."""
        ...

    async def deliveries_for(self, subscription_id: int) -> list[Delivery]: ...

    async def move_chat(self, old: ChatRef, new_chat_id: str) -> None:
        """Re-file the chat's subscriptions and chat-owned sources under its new id."""
        ...

    async def disable_chat(self, chat: ChatRef, reason: str) -> int:
        """Disable the thread's subscription, or every one in the chat when no thread is named."""
        ...

    # the operator's view (`/status`, `newsdigest status`)

    async def subscription_counts(self) -> dict[str, tuple[int, int]]:
        """Per platform: (enabled, disabled) subscriptions."""
        ...

    async def ledger_counts(self, since: datetime) -> dict[DeliveryStatus, int]:
        """Ledger rows by status, counting those last changed at or after `since`."""
        ...

    async def ledger_entries(self, status: DeliveryStatus, since: datetime | None, limit: int) -> list[LedgerEntry]:
        """Rows with `status`, most recently changed first, each with the chat it was for."""
        ...

    async def upcoming_subscriptions(self, limit: int) -> list[Subscription]:
        """Enabled subscriptions by next due time, soonest first."""
        ...

    async def release_sending(self, now: datetime, reason: str) -> int:
        """Turn every 'sending' row into a failure due for retry now, keeping its attempt count.

        Only for a caller that knows no other process is sending (see bot.ops.runlock): rows a
        live dispatcher holds must be left to the lease.
        """
        ...


@dataclass(frozen=True)
class LedgerEntry:
    """A ledger row as an operator reads it: which chat, and when it last changed."""

    delivery: Delivery
    chat: ChatRef
    updated_at: datetime
