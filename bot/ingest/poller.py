"""Polling sources: fetch each due feed, store its summaries, and keep each source's health.

One bad source never delays or breaks the others: fetches run concurrently under the fetcher's
limits, every failure is caught and recorded on its own source, and a source that keeps failing
backs off exponentially and is disabled (with the reason kept for /sources) after N failures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.ingest.feeds import FeedError, ParsedFeed, parse_feed, skipped_note
from bot.ingest.fetch import FeedFetcher
from bot.model import BiasRating, OutletInfo, Source
from storage.repository import Repository, SourceRemoved

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
DUE_BATCH = 200


@dataclass(frozen=True)
class PollOutcome:
    source: Source
    status: str  # new, updated, unchanged, error, disabled, removed
    new: int = 0
    updated: int = 0
    reason: str = ""
    skipped: int = 0  # entries with no title or no text, which cannot be summaries

    def line(self) -> str:
        """The per-source line `newsdigest ingest` prints."""
        match self.status:
            case "new" | "updated":
                detail = f"{self.new} new, {self.updated} updated{skipped_note(self.skipped)}"
            case "unchanged":
                detail = "no change"
            case _:
                detail = self.reason
        return f"#{self.source.id} {self.source.name}: {self.status} ({detail})"


class ProbeError(ValueError):
    """The URL does not give a usable feed; the message is the precise reason."""


class FeedPoller:
    def __init__(self, repo: Repository, fetcher: FeedFetcher, clock: Callable[[], datetime],
                 max_failures: int = 10) -> None:
        self.repo = repo
        self.fetcher = fetcher
        self.clock = clock
        self.max_failures = max_failures

    async def probe(self, url: str, outlet: OutletInfo | None = None) -> ParsedFeed:
        """Fetch and parse once, storing nothing: what /addsource checks before saving."""
        result = await self.fetcher.fetch(url)
        if not result.ok:
            raise ProbeError(result.reason or "the feed could not be fetched")
        try:
            return parse_feed(result.body, url=result.url, content_type=result.content_type, outlet=outlet)
        except FeedError as exc:
            raise ProbeError(exc.reason) from None

    async def add(self, url: str, bias: BiasRating, scope: str | None,
                  poll_interval: int = 900) -> tuple[Source, PollOutcome]:
        """Check the feed, save it as a source, and store what it has now."""
        parsed = await self.probe(url)
        name = parsed.title or urlsplit(url).hostname or url
        source = await self.repo.add_source(name, feed_url=url, description=parsed.description,
                                            website=parsed.link, bias=bias, scope=scope,
                                            poll_interval=poll_interval)
        return source, await self.poll(source)

    async def poll_due(self) -> list[PollOutcome]:
        outcomes: list[PollOutcome] = []
        while due := await self.repo.due_feeds(self.clock(), DUE_BATCH):
            outcomes += await asyncio.gather(*(self.poll(source) for source in due))
        return outcomes

    async def poll(self, source: Source) -> PollOutcome:
        assert source.feed_url is not None
        now = self.clock()
        try:
            result = await self.fetcher.fetch(source.feed_url, etag=source.etag, last_modified=source.last_modified)
            if result.status == "not_modified":
                await self.repo.record_poll(source.id, now, self._next(now, source))
                return PollOutcome(source, "unchanged")
            if not result.ok:
                return await self._failed(source, now, result.reason or "fetch failed")
            parsed = parse_feed(result.body, url=result.url, content_type=result.content_type,
                                outlet=source.outlet)
            stored = await self.repo.store_articles(parsed.entries, source.scope, feed=source.id)
        except SourceRemoved:  # by /removesource while it was fetched: nothing to store or record
            log.info("source %s was removed while it was polled", source.id)
            return PollOutcome(source, "removed", reason="removed while it was polled")
        except FeedError as exc:
            return await self._failed(source, now, exc.reason)
        except Exception as exc:  # the boundary: one source's surprise must not stop the rest
            log.exception("polling source %s failed", source.id)
            return await self._failed(source, now, f"internal error: {type(exc).__name__}")
        await self.repo.record_poll(source.id, now, self._next(now, source), etag=result.etag,
                                    last_modified=result.last_modified)
        status = "new" if stored.new else "updated" if stored.updated else "unchanged"
        log.info("source %s: %d new, %d updated, %d unchanged, %d skipped", source.id, stored.new, stored.updated,
                 stored.unchanged, parsed.skipped)
        return PollOutcome(source, status, stored.new, stored.updated, skipped=parsed.skipped)

    def _next(self, now: datetime, source: Source, failures: int = 0) -> datetime:
        """The regular interval, doubled for each consecutive failure, capped at a day."""
        interval = timedelta(seconds=source.poll_interval) * (2 ** failures)
        return now + min(interval, MAX_BACKOFF)

    async def _failed(self, source: Source, now: datetime, reason: str) -> PollOutcome:
        failures = source.failures + 1
        disable = failures >= self.max_failures
        text = f"{reason} ({failures} failures in a row; disabled)" if disable else reason
        await self.repo.record_failure(source.id, now, self._next(now, source, failures), text, failures, disable)
        log.warning("source %s (%s) failed: %s", source.id, source.feed_url, text)
        return PollOutcome(source, "disabled" if disable else "error", reason=text)
