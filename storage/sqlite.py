"""The embedded SQLite backend of the repository, on aiosqlite.

One connection per process, in autocommit mode: every write is an explicit `BEGIN IMMEDIATE`
transaction under a lock, so concurrent tasks never interleave half a batch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from itertools import chain
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiosqlite

from bot.model import (Article, ArticleDraft, BiasRating, ChatRef, Delivery, DeliveryStatus, DigestOptions,
                       OutletInfo, Schedule, Source, Subscription)
from bot.stories import (DOCUMENTS, FEATURES, MAX_CANDIDATES, STORY_WINDOW, Candidate, Fingerprint, file_stories,
                         fingerprint)
from storage.batch import KNOWN_COLUMNS, Row, sort_batch
from storage.migrate import UnusableDatabase, migrate
from storage.repository import DuplicateSource, LedgerEntry, SlotPlan, SourceRemoved, StoreResult

log = logging.getLogger(__name__)

RECOUNT_BATCH = 5000  # articles read and counted at a time when the story word counts are made again

_ARTICLE_COLUMNS = (
    "a.id, a.source_id, a.title, a.lead, a.key_points, a.url, a.published_at, a.ai_generated,"
    " a.dedupe_key, a.stored_at, a.story_id"
)
_SOURCE_COLUMNS = (
    "id, name, description, website, feed_url, bias, scope, enabled, disabled_reason, poll_interval, failures,"
    " last_error, last_polled_at, next_poll_at, etag, last_modified"
)


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _dt(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _source(row: aiosqlite.Row | tuple[Any, ...]) -> Source:
    return Source(
        id=row[0],
        name=row[1],
        description=row[2],
        website=row[3],
        feed_url=row[4],
        bias=BiasRating(row[5]),
        scope=row[6] or None,
        enabled=bool(row[7]),
        disabled_reason=row[8],
        poll_interval=row[9],
        failures=row[10],
        last_error=row[11],
        last_polled_at=_dt(row[12]),
        next_poll_at=_dt(row[13]),
        etag=row[14],
        last_modified=row[15],
    )


def _article(row: aiosqlite.Row | tuple[Any, ...]) -> Article:
    return Article(
        id=row[0],
        source_id=row[1],
        title=row[2],
        lead=row[3],
        key_points=tuple(json.loads(row[4])),
        url=row[5],
        published_at=_dt(row[6]),
        ai_generated=bool(row[7]),
        dedupe_key=row[8],
        stored_at=_dt(row[9]) or datetime.now(UTC),
        story_id=row[10] or 0,
    )


_SUBSCRIPTION_COLUMNS = (
    "id, platform, chat_id, thread_id, times, days, timezone, options, enabled, disabled_reason,"
    " next_due_at, last_article_id"
)


def _subscription(row: aiosqlite.Row | tuple[Any, ...]) -> Subscription:
    return Subscription(
        id=row[0],
        chat=ChatRef(row[1], row[2], row[3] or None),
        schedule=Schedule(tuple(json.loads(row[4])), frozenset(json.loads(row[5])), row[6]),
        options=DigestOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(row[7]).items()}),
        enabled=bool(row[8]),
        disabled_reason=row[9],
        next_due_at=_dt(row[10]),
        last_article_id=row[11],
    )


_DELIVERY_COLUMNS = ("id, subscription_id, slot_at, status, message_ids, error, article_ids, cursor, attempts,"
                     " reply_checksum")


def _delivery(row: aiosqlite.Row | tuple[Any, ...]) -> Delivery:
    return Delivery(
        id=row[0],
        subscription_id=row[1],
        slot_at=_dt(row[2]) or datetime.now(UTC),
        status=DeliveryStatus(row[3]),
        message_ids=tuple(json.loads(row[4])),
        error=row[5],
        article_ids=tuple(json.loads(row[6])),
        cursor=row[7],
        attempts=row[8],
        reply_checksum=row[9],
    )


def _options_json(options: DigestOptions) -> str:
    return json.dumps(dataclasses.asdict(options))


@lru_cache(maxsize=4096)
def _stored_fingerprint(title: str, lead: str, key_points: str) -> Fingerprint:
    """A stored article's fingerprint, cached on its row's own text: a recent article is a story
    candidate for many new ones, and its key points need not be decoded each time."""
    return fingerprint(title, lead, tuple(json.loads(key_points)))


def fts_query(words: Sequence[str]) -> str:
    """User words as FTS5 prefix terms, quoted so no operator or column filter gets through."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


class SQLiteRepository:
    def __init__(self, db: aiosqlite.Connection, has_fts: bool) -> None:
        self.db = db
        self.has_fts = has_fts
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteRepository:
        """Open (creating if needed) and migrate the database file."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            sqlite3.connect(path).close()  # a path SQLite cannot open fails here, not in aiosqlite's thread
            return await cls._open(str(path))
        except sqlite3.DatabaseError as exc:  # not a database, a folder, no permission: say so in one line
            raise UnusableDatabase(f"cannot use {path}: {exc}") from None

    @classmethod
    async def _open(cls, path: str) -> SQLiteRepository:
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute("PRAGMA busy_timeout = 10000")
            if path != ":memory:":
                await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await migrate(db)
            async with db.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'articles_fts'"
            ) as cursor:
                has_fts = (await cursor.fetchone())[0] == 1
            repo = cls(db, has_fts)
            await repo._count_story_terms_if_stale()
        except BaseException:
            await db.close()
            raise
        return repo

    async def close(self) -> None:
        await self.db.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
            await self.db.execute("COMMIT")

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        async with self.db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self.db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

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
    ) -> Source:
        async with self.transaction() as db:
            clash = await self._one(
                "SELECT name FROM sources WHERE (name_key = ? OR (feed_url IS NOT NULL AND feed_url = ?))"
                " AND scope IN ('', ?)",
                (name.lower(), feed_url, scope or ""),
            )
            if clash:
                raise DuplicateSource(f"a source named {clash[0]!r} already has that name or feed")
            cursor = await db.execute(
                "INSERT INTO sources (name, name_key, description, website, feed_url, bias, scope, poll_interval,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, name.lower(), description, website, feed_url, bias.value, scope or "", poll_interval,
                 int(time.time())),
            )
            source_id = cursor.lastrowid
        source = await self.get_source(source_id)
        assert source is not None
        return source

    async def get_source(self, source_id: int) -> Source | None:
        row = await self._one(f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE id = ?", (source_id,))
        return _source(row) if row else None

    async def find_source(self, ref: str, scope: str | None) -> Source | None:
        ref = ref.strip().removeprefix("#")
        if ref.isascii() and ref.isdigit() and len(ref) <= 18:  # an id SQLite can hold; "²" is a name
            row = await self._one(
                f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE id = ? AND scope IN ('', ?)", (int(ref), scope or "")
            )
        else:
            row = await self._one(
                f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE name_key = ? AND scope IN ('', ?)"
                " ORDER BY scope = '' LIMIT 1",
                (" ".join(ref.lower().split()), scope or ""),
            )
        return _source(row) if row else None

    async def list_sources(self, scope: str | None) -> list[Source]:
        rows = await self._all(
            f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE scope IN ('', ?) ORDER BY name_key", (scope or "",)
        )
        return [_source(row) for row in rows]

    async def all_sources(self) -> list[Source]:
        rows = await self._all(f"SELECT {_SOURCE_COLUMNS} FROM sources ORDER BY id")
        return [_source(row) for row in rows]

    async def source_scopes(self) -> set[str]:
        rows = await self._all("SELECT DISTINCT scope FROM sources WHERE scope != ''")
        return {row[0] for row in rows}

    async def sources_by_id(self, ids: Iterable[int]) -> dict[int, Source]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = await self._all(
            f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE id IN ({','.join('?' * len(wanted))})", wanted
        )
        return {row[0]: _source(row) for row in rows}

    async def due_feeds(self, now: datetime, limit: int) -> list[Source]:
        rows = await self._all(
            f"SELECT {_SOURCE_COLUMNS} FROM sources WHERE feed_url IS NOT NULL AND enabled = 1"
            " AND coalesce(next_poll_at, 0) <= ? ORDER BY coalesce(next_poll_at, 0) LIMIT ?",
            (_ts(now), limit),
        )
        return [_source(row) for row in rows]

    async def record_poll(self, source_id: int, now: datetime, next_poll_at: datetime, *, etag: str | None = None,
                          last_modified: str | None = None) -> None:
        """A success clears the failure count and keeps the validators."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE sources SET last_polled_at = ?, next_poll_at = ?, failures = 0, last_error = NULL,"
                " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE id = ?",
                (_ts(now), _ts(next_poll_at), etag, last_modified, source_id),
            )

    async def record_failure(self, source_id: int, now: datetime, next_poll_at: datetime, error: str,
                             failures: int, disable: bool = False) -> None:
        """Sets the failure count to `failures`, the one this failure makes, unless another poller
        counted the same round meanwhile (the count no longer stands one below)."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE sources SET last_polled_at = ?, next_poll_at = ?, failures = ?, last_error = ?,"
                " enabled = CASE WHEN ? THEN 0 ELSE enabled END,"
                " disabled_reason = CASE WHEN ? THEN ? ELSE disabled_reason END WHERE id = ? AND failures = ?",
                (_ts(now), _ts(next_poll_at), failures, error, disable, disable, error, source_id, failures - 1),
            )

    async def set_source_enabled(self, source_id: int, enabled: bool, reason: str | None = None) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE sources SET enabled = ?, disabled_reason = ?, failures = 0, next_poll_at = NULL WHERE id = ?",
                (int(enabled), None if enabled else reason, source_id),
            )

    async def set_bias(self, source_id: int, bias: BiasRating) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE sources SET bias = ? WHERE id = ?", (bias.value, source_id))

    async def remove_source(self, source_id: int) -> int:
        async with self.transaction() as db:
            await db.execute("DELETE FROM sources WHERE id = ?", (source_id,))
            filtered = await db.execute(
                "UPDATE subscriptions SET options = json_set(options, '$.sources', json((SELECT json_group_array(value)"
                " FROM json_each(options, '$.sources') WHERE value != ?1)))"
                " WHERE EXISTS (SELECT 1 FROM json_each(options, '$.sources') WHERE value = ?1)",
                (source_id,),
            )
            return filtered.rowcount

    async def _sources_for_outlets(self, outlets: Iterable[OutletInfo], scope: str | None) -> dict[str, int]:
        """Each outlet's source id by lower-case name, created on first sight; blanks are filled,
        choices kept. A fixed number of statements: one blog's feed can name a hundred outlets."""
        first: dict[str, OutletInfo] = {}
        for outlet in outlets:
            first.setdefault(outlet.name.lower(), outlet)
        names = json.dumps(sorted(first))
        found = {row[1]: row for row in await self._all(  # read last, a chat's own source wins over a global one
            "SELECT id, name_key, description, website, bias FROM sources"
            " WHERE name_key IN (SELECT value FROM json_each(?)) AND scope IN ('', ?) ORDER BY scope = '' DESC",
            (names, scope or ""),
        )}
        missing = [outlet for key, outlet in first.items() if key not in found]
        if missing:
            await self.db.executemany(
                "INSERT INTO sources (name, name_key, description, website, bias, scope, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(o.name, o.name.lower(), o.description, o.website, o.bias.value, scope or "", int(time.time()))
                 for o in missing],
            )
            found |= {row[1]: row for row in await self._all(
                "SELECT id, name_key, description, website, bias FROM sources"
                " WHERE name_key IN (SELECT value FROM json_each(?)) AND scope = ?",
                (json.dumps([o.name.lower() for o in missing]), scope or ""),
            )}
        unrated = BiasRating.UNRATED.value
        blanks = []
        for key, outlet in first.items():
            source_id, _, description, website, bias = found[key]
            if (not description and outlet.description) or (not website and outlet.website) or (
                    bias == unrated and outlet.bias is not BiasRating.UNRATED):
                blanks.append((description or outlet.description, website or outlet.website,
                               outlet.bias.value if bias == unrated else bias, source_id))
        await self.db.executemany("UPDATE sources SET description = ?, website = ?, bias = ? WHERE id = ?", blanks)
        return {key: row[0] for key, row in found.items()}

    # articles

    async def store_articles(self, drafts: Sequence[ArticleDraft], scope: str | None = None,
                             feed: int | None = None) -> StoreResult:
        """A whole batch in a fixed number of statements, whatever its size: every statement is a
        trip to the database thread, which costs more than the row it writes.

        Drafts are taken in order, as if stored one by one, with two differences: an article that a
        later draft of the same batch corrects is filed under a story by its corrected text, and a
        stored article a draft corrects is matched by the batch's later drafts on its old text."""
        if not drafts:  # a feed with nothing in it
            return StoreResult()
        now = int(time.time())
        async with self.transaction() as db:
            if feed is not None and await self._one("SELECT 1 FROM sources WHERE id = ?", (feed,)) is None:
                raise SourceRemoved(feed)
            outlets = await self._sources_for_outlets((draft.outlet for draft in drafts), scope)
            incoming = [Row.of(draft, outlets[draft.outlet.name.lower()], now) for draft in drafts]
            batch = sort_batch(incoming, await self._stored_copies(incoming), await self._next_article_id())
            prints = [fingerprint(*row.text) for row in batch.new]
            stories, merged = await self._stories_for([(row.id, row.sort_at, print_)
                                                       for row, print_ in zip(batch.new, prints)])
            await db.executemany("UPDATE articles SET story_id = ? WHERE story_id = ?",
                                 [(new, old) for old, new in merged.items()])
            await db.executemany(
                "INSERT INTO articles (id, source_id, title, lead, key_points, url, canonical_url, guid, published_at,"
                " sort_at, ai_generated, dedupe_key, stored_at, story_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(row.id, row.source_id, *row.fields[:4], row.canonical_url, row.guid, row.fields[4], row.sort_at,
                  row.fields[5], row.dedupe_key, now, story) for row, story in zip(batch.new, stories)],
            )
            if batch.new:
                await db.execute("UPDATE id_watermarks SET last_id = ? WHERE name = 'articles'", (batch.new[-1].id,))
            await db.executemany(
                "UPDATE articles SET title = ?, lead = ?, key_points = ?, url = ?, published_at = ?, ai_generated = ?"
                " WHERE id = ?",
                [(*row.fields, row.id) for row in batch.changed],
            )
            # a changed article keeps its story; later articles are matched against its new text
            await db.executemany("DELETE FROM story_keys WHERE article_id = ?", [(row.id,) for row in batch.changed])
            await self._index_stories([*zip(batch.new, prints),
                                       *((row, fingerprint(*row.text)) for row in batch.changed)])
            await self._count_features(prints)
        return StoreResult(new_ids=[row.id for row in batch.new], updated=batch.updated, unchanged=batch.unchanged)

    async def _next_article_id(self) -> int:
        """Past every id ever given, deleted articles' included (rows written around the repository,
        as the benchmarks do, count too)."""
        row = await self._one("SELECT max(coalesce((SELECT last_id FROM id_watermarks WHERE name = 'articles'), 0),"
                              " (SELECT coalesce(max(id), 0) FROM articles)) + 1")
        return int(row[0]) if row else 1

    async def _stored_copies(self, incoming: Sequence[Row]) -> list[Row]:
        """Every stored article that one of the drafts may be a copy of, in one query."""
        rows = await self._all(
            f"SELECT {KNOWN_COLUMNS} FROM articles WHERE dedupe_key IN (SELECT value FROM json_each(?))"
            f" UNION SELECT {KNOWN_COLUMNS} FROM articles WHERE canonical_url IN (SELECT value FROM json_each(?))"
            f" UNION SELECT {', '.join('a.' + c.strip() for c in KNOWN_COLUMNS.split(','))}"
            " FROM json_each(?) j JOIN articles a"
            " ON a.source_id = json_extract(j.value, '$[0]') AND a.guid = json_extract(j.value, '$[1]')",
            (json.dumps([row.dedupe_key for row in incoming]),
             json.dumps([row.canonical_url for row in incoming if row.canonical_url]),
             json.dumps([[row.source_id, row.guid] for row in incoming if row.guid])),
        )
        return sorted((Row.stored(row) for row in rows), key=lambda row: row.id)

    async def _stories_for(self, articles: Sequence[tuple[int, int, Fingerprint]]) -> tuple[list[int], dict[int, int]]:
        """bot.stories.file_stories for new `(id, sort_at, fingerprint)` articles, with the stored
        candidates of each: the recent articles sharing most name words, found through the
        story_keys index, whose range per word is bounded by the time window, not by the size of
        the store."""
        window = int(STORY_WINDOW.total_seconds())
        wanted = [[n, key, sort_at - window, sort_at + window]
                  for n, (_, sort_at, print_) in enumerate(articles) for key in sorted(print_.keys)]
        if not wanted:
            return [article_id for article_id, _, _ in articles], {}
        rows = await self._all(  # the wanted keys unpacked once, not at every index row they meet
            "WITH w (n, key, low, high) AS MATERIALIZED (SELECT json_extract(value, '$[0]'),"
            " json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(?)),"
            " ranked AS (SELECT w.n, k.article_id, count(*) AS shared, row_number() OVER ("
            "  PARTITION BY w.n ORDER BY count(*) DESC, k.article_id DESC) AS rank"
            " FROM w JOIN story_keys k ON k.key = w.key AND k.sort_at BETWEEN w.low AND w.high"
            " GROUP BY w.n, k.article_id)"
            " SELECT r.n, r.shared, a.id, coalesce(a.story_id, a.id), a.title, a.lead, a.key_points FROM ranked r"
            " JOIN articles a ON a.id = r.article_id WHERE r.rank <= ? ORDER BY r.n, r.rank",
            (json.dumps(wanted), MAX_CANDIDATES),
        )
        candidates: list[list[Candidate]] = [[] for _ in articles]
        for n, shared, candidate_id, story_id, title, lead, points in rows:
            candidates[n].append(Candidate(shared, candidate_id, story_id, _stored_fingerprint(title, lead, points)))
        counts = await self._frequencies({DOCUMENTS}.union(
            *(print_.features for _, _, print_ in articles),
            *(found.print.features for found in chain.from_iterable(candidates))))
        return file_stories(articles, candidates, counts)

    async def _frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        return dict(await self._all("SELECT term, df FROM story_terms WHERE term IN (SELECT value FROM json_each(?))",
                                    (json.dumps(sorted(terms)),)))

    async def _count_story_terms_if_stale(self) -> None:
        """Story word counts made under other FEATURES (a build that reads words differently)
        are made again from the stored articles, once: counts of other words would weigh the new
        ones wrongly for weeks. The counting reads one snapshot into a temporary table without
        the write lock, which other processes keep meanwhile; a short write then swaps the counts
        in, with the articles stored since the snapshot. The name index (story_keys) is left as it
        is: it serves only the last 48 hours, which renew themselves."""
        current = "SELECT 1 FROM story_features WHERE features = ?"
        if await self._one(current, (FEATURES,)):
            return
        started = time.monotonic()
        await self.db.execute("CREATE TEMP TABLE recount (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID")
        try:
            await self.db.execute("BEGIN")
            try:
                counted, last = await self._count_articles("temp.recount", after=0)
            finally:
                await self.db.execute("COMMIT")
            async with self.transaction() as db:
                if await self._one(current, (FEATURES,)):  # another process did it meanwhile
                    return
                await db.execute("DELETE FROM story_terms")
                await db.execute("INSERT INTO story_terms (term, df) SELECT term, df FROM temp.recount")
                await self._count_articles("story_terms", after=last)
                await db.execute("INSERT INTO story_features (id, features) VALUES (1, ?)"
                                 " ON CONFLICT (id) DO UPDATE SET features = excluded.features", (FEATURES,))
        finally:
            await self.db.execute("DROP TABLE temp.recount")
        if counted:
            log.info("story word counts made again over %d articles in %.1f s: this build reads words differently",
                     counted, time.monotonic() - started)

    async def _count_articles(self, table: str, after: int) -> tuple[int, int]:
        """Count the words of the stored articles with ids above `after` into `table`, a batch at a
        time so that memory stays small: (how many, the last id)."""
        counted, last = 0, after
        while rows := await self._all("SELECT id, title, lead, key_points FROM articles WHERE id > ? ORDER BY id"
                                      " LIMIT ?", (last, RECOUNT_BATCH)):
            await self._count_features([_stored_fingerprint.__wrapped__(title, lead, points)  # past the cache:
                                        for _, title, lead, points in rows], table)  # each is read once
            last, counted = rows[-1][0], counted + len(rows)
        return counted, last

    async def _count_features(self, prints: Sequence[Fingerprint], table: str = "story_terms") -> None:
        """Each article counts once, as first stored: a correction does not recount its words
        (until a new build counts them all again, as they are then)."""
        counts = Counter(feature for print_ in prints for feature in {DOCUMENTS, *print_.features})
        await self.db.executemany(
            f"INSERT INTO {table} (term, df) VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET df = df + excluded.df",
            sorted(counts.items()),
        )

    async def _index_stories(self, articles: Sequence[tuple[Row, Fingerprint]]) -> None:
        await self.db.executemany(
            "INSERT INTO story_keys (key, sort_at, article_id) SELECT ?, sort_at, id FROM articles WHERE id = ?",
            [(key, row.id) for row, print_ in articles for key in sorted(print_.keys)],
        )

    async def story_articles(self, scope: str | None, story_ids: Iterable[int],
                             source_ids: Sequence[int] = ()) -> list[Article]:
        wanted = sorted(set(story_ids))
        if not wanted:
            return []
        only = f" AND a.source_id IN ({','.join('?' * len(source_ids))})" if source_ids else ""
        rows = await self._all(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN sources s ON s.id = a.source_id"
            f" WHERE a.story_id IN ({','.join('?' * len(wanted))}) AND s.scope IN ('', ?){only}"
            " ORDER BY a.sort_at DESC, a.id DESC",
            (*wanted, scope or "", *source_ids),
        )
        return [_article(row) for row in rows]

    async def get_article(self, article_id: int) -> Article | None:
        row = await self._one(f"SELECT {_ARTICLE_COLUMNS} FROM articles a WHERE a.id = ?", (article_id,))
        return _article(row) if row else None

    async def latest_articles(self, scope: str | None, limit: int) -> list[Article]:
        rows = await self._all(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN sources s ON s.id = a.source_id"
            " WHERE s.scope IN ('', ?) ORDER BY a.sort_at DESC, a.id DESC LIMIT ?",
            (scope or "", limit),
        )
        return [_article(row) for row in rows]

    async def search_articles(self, scope: str | None, words: Sequence[str], limit: int) -> list[Article]:
        if self.has_fts:
            rows = await self._all(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles_fts f JOIN articles a ON a.id = f.rowid"
                " JOIN sources s ON s.id = a.source_id"
                " WHERE articles_fts MATCH ? AND s.scope IN ('', ?) ORDER BY f.rowid DESC LIMIT ?",
                (fts_query(words), scope or "", limit),
            )
        else:
            clauses = " AND ".join("(a.title LIKE ? OR a.lead LIKE ? OR a.key_points LIKE ?)" for _ in words)
            params = [f"%{w}%" for w in words for _ in range(3)]
            rows = await self._all(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN sources s ON s.id = a.source_id"
                f" WHERE {clauses} AND s.scope IN ('', ?) ORDER BY a.id DESC LIMIT ?",
                (*params, scope or "", limit),
            )
        return [_article(row) for row in rows]

    async def articles_after(
        self, scope: str | None, after_id: int, limit: int, source_ids: Sequence[int] = ()
    ) -> list[Article]:
        only = f" AND a.source_id IN ({','.join('?' * len(source_ids))})" if source_ids else ""
        rows = await self._all(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN sources s ON s.id = a.source_id"
            f" WHERE a.id > ? AND s.scope IN ('', ?){only} ORDER BY a.sort_at DESC, a.id DESC LIMIT ?",
            (after_id, scope or "", *source_ids, limit),
        )
        return [_article(row) for row in rows]

    async def max_article_id(self) -> int:
        row = await self._one("SELECT coalesce(max(id), 0) FROM articles")
        return int(row[0]) if row else 0

    # subscriptions

    async def get_subscription(self, chat: ChatRef) -> Subscription | None:
        row = await self._one(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE platform = ? AND chat_id = ? AND thread_id = ?",
            (chat.platform, chat.chat_id, chat.thread_id or ""),
        )
        return _subscription(row) if row else None

    async def move_chat(self, old: ChatRef, new_chat_id: str) -> None:
        new_scope = ChatRef(old.platform, new_chat_id).scope
        async with self.transaction() as db:
            await db.execute(
                "UPDATE OR IGNORE subscriptions SET chat_id = ? WHERE platform = ? AND chat_id = ?",
                (new_chat_id, old.platform, old.chat_id),
            )
            await db.execute("UPDATE OR IGNORE sources SET scope = ? WHERE scope = ?", (new_scope, old.scope))

    async def disable_chat(self, chat: ChatRef, reason: str) -> int:
        thread = " AND thread_id = ?" if chat.thread_id else ""
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE subscriptions SET enabled = 0, disabled_reason = ? WHERE platform = ? AND chat_id = ?"
                f" AND enabled = 1{thread}",
                (reason, chat.platform, chat.chat_id, *((chat.thread_id,) if chat.thread_id else ())),
            )
            return cursor.rowcount

    async def _subscriptions(self, where: str, params: Sequence[Any]) -> list[Subscription]:
        rows = await self._all(f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE {where}", params)
        return [_subscription(row) for row in rows]

    async def save_subscription(self, chat: ChatRef, schedule: Schedule, next_due_at: datetime) -> Subscription:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO subscriptions (platform, chat_id, thread_id, times, days, timezone, next_due_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (platform, chat_id, thread_id) DO UPDATE SET times = excluded.times,"
                " days = excluded.days, timezone = excluded.timezone, next_due_at = excluded.next_due_at,"
                " enabled = 1, disabled_reason = NULL",
                (chat.platform, chat.chat_id, chat.thread_id or "", json.dumps(list(schedule.times)),
                 json.dumps(sorted(schedule.days)), schedule.timezone, _ts(next_due_at), int(time.time())),
            )
        saved = await self.get_subscription(chat)
        assert saved is not None
        return saved

    async def set_options(self, subscription_id: int, options: DigestOptions) -> None:
        async with self.transaction() as db:
            await db.execute("UPDATE subscriptions SET options = ? WHERE id = ?",
                             (_options_json(options), subscription_id))

    async def remove_subscription(self, chat: ChatRef) -> bool:
        async with self.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM subscriptions WHERE platform = ? AND chat_id = ? AND thread_id = ?",
                (chat.platform, chat.chat_id, chat.thread_id or ""),
            )
            return cursor.rowcount > 0

    async def due_subscriptions(self, now: datetime, limit: int, platforms: Sequence[str],
                                exclude: Sequence[int] = ()) -> list[Subscription]:
        return await self._subscriptions(
            f"enabled = 1 AND next_due_at <= ? AND platform IN ({','.join('?' * len(platforms))})"
            f" AND id NOT IN ({','.join('?' * len(exclude))}) ORDER BY next_due_at LIMIT ?",
            (_ts(now), *platforms, *exclude, limit),
        )

    # the delivery ledger

    async def record_slots(self, plans: Sequence[SlotPlan], now: datetime) -> list[Delivery | None]:
        """Claim or skip a batch of slots in one transaction, then the sending starts.

        The unique (subscription, slot) key makes the insert the only place a slot can be won: a
        second dispatcher, or this one after a restart, finds the row and backs off. One commit
        for a whole batch, because a commit costs more than the rest of a digest's bookkeeping.
        """
        stamp = _ts(now)
        claimed: list[Delivery | None] = []
        async with self.transaction() as db:
            for plan in plans:
                sub = plan.subscription
                skipped = [*plan.skipped, *(() if plan.send else (plan.slot_at,))]
                if skipped:
                    await db.executemany(
                        "INSERT OR IGNORE INTO deliveries (subscription_id, slot_at, status, error, created_at,"
                        " updated_at) VALUES (?, ?, 'skipped', ?, ?, ?)",
                        [(sub.id, _ts(slot), plan.reason, stamp, stamp) for slot in skipped],
                    )
                delivery = None
                if plan.send:
                    claim = await db.execute(
                        "INSERT OR IGNORE INTO deliveries (subscription_id, slot_at, status, article_ids, cursor,"
                        " created_at, updated_at) VALUES (?, ?, 'sending', ?, ?, ?, ?)",
                        (sub.id, _ts(plan.slot_at), json.dumps(list(plan.article_ids)), plan.cursor, stamp, stamp),
                    )
                    if claim.rowcount == 1:
                        delivery = Delivery(int(claim.lastrowid), sub.id, plan.slot_at, DeliveryStatus.SENDING,
                                            article_ids=plan.article_ids, cursor=plan.cursor)
                        # an older slot still waiting for its retry: this digest has its stories too
                        await db.execute(
                            "UPDATE deliveries SET status = 'skipped', retry_at = NULL, updated_at = ?,"
                            " error = 'missed: superseded by a later slot' WHERE subscription_id = ?"
                            " AND status = 'failed' AND retry_at IS NOT NULL AND slot_at < ?",
                            (stamp, sub.id, _ts(plan.slot_at)),
                        )
                await db.execute(
                    "UPDATE subscriptions SET next_due_at = ? WHERE id = ? AND next_due_at <= ?",
                    (_ts(plan.next_due_at), sub.id, _ts(plan.slot_at)),
                )
                claimed.append(delivery)
        return claimed

    async def finish_delivery(self, delivery: Delivery, status: DeliveryStatus, now: datetime,
                              message_ids: Sequence[str] = (), error: str | None = None,
                              retry_at: datetime | None = None, reply_checksum: str | None = None) -> None:
        """Close a claimed slot in one write; a sent digest's cursor moves with it (a trigger)."""
        async with self._write_lock:
            await self.db.execute(
                "UPDATE deliveries SET status = ?, message_ids = ?, error = ?, attempts = attempts + 1,"
                " retry_at = ?, updated_at = ?, reply_checksum = ? WHERE id = ?",
                (status.value, json.dumps(list(message_ids)), error, _ts(retry_at), _ts(now), reply_checksum,
                 delivery.id),
            )

    async def reclaim_deliveries(self, now: datetime, stale_before: datetime, limit: int) -> list[Delivery]:
        """Take back slots to send again: failed ones whose retry time has come, and ones left
        'sending' by a process that died (untouched since `stale_before`)."""
        async with self.transaction() as db:
            rows = await self._all(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE (status = 'failed' AND retry_at <= ?)"
                " OR (status = 'sending' AND updated_at < ?) ORDER BY slot_at LIMIT ?",
                (_ts(now), _ts(stale_before), limit),
            )
            for row in rows:
                await db.execute(
                    "UPDATE deliveries SET status = 'sending', retry_at = NULL, updated_at = ? WHERE id = ?",
                    (_ts(now), row[0]),
                )
        return [_delivery(row) for row in rows]

    async def get_subscription_by_id(self, subscription_id: int) -> Subscription | None:
        found = await self._subscriptions("id = ?", (subscription_id,))
        return found[0] if found else None

    async def articles_by_id(self, ids: Sequence[int]) -> list[Article]:
        if not ids:
            return []
        rows = await self._all(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a WHERE a.id IN ({','.join('?' * len(ids))})", list(ids)
        )
        order = {article_id: i for i, article_id in enumerate(ids)}
        return sorted((_article(row) for row in rows), key=lambda a: order[a.id])

    async def deliveries_for(self, subscription_id: int) -> list[Delivery]:
        rows = await self._all(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ? ORDER BY slot_at",
            (subscription_id,),
        )
        return [_delivery(row) for row in rows]

    # the operator's view

    async def subscription_counts(self) -> dict[str, tuple[int, int]]:
        rows = await self._all(
            "SELECT platform, sum(enabled = 1), sum(enabled = 0) FROM subscriptions"
            " GROUP BY platform ORDER BY platform"
        )
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}

    async def ledger_counts(self, since: datetime) -> dict[DeliveryStatus, int]:
        rows = await self._all(
            "SELECT status, count(*) FROM deliveries WHERE updated_at >= ? GROUP BY status", (_ts(since),)
        )
        return {DeliveryStatus(row[0]): int(row[1]) for row in rows}

    async def ledger_entries(self, status: DeliveryStatus, since: datetime | None, limit: int) -> list[LedgerEntry]:
        columns = ", ".join(f"d.{name.strip()}" for name in _DELIVERY_COLUMNS.split(","))
        rows = await self._all(
            f"SELECT {columns}, d.updated_at, s.platform, s.chat_id, s.thread_id FROM deliveries d"
            " JOIN subscriptions s ON s.id = d.subscription_id WHERE d.status = ? AND d.updated_at >= ?"
            " ORDER BY d.updated_at DESC, d.id DESC LIMIT ?",
            (status.value, _ts(since) or 0, limit),
        )
        width = len(_DELIVERY_COLUMNS.split(","))
        return [LedgerEntry(_delivery(row[:width]), ChatRef(row[width + 1], row[width + 2], row[width + 3] or None),
                            _dt(row[width]) or datetime.now(UTC)) for row in rows]

    async def upcoming_subscriptions(self, limit: int) -> list[Subscription]:
        return await self._subscriptions(
            "enabled = 1 AND next_due_at IS NOT NULL ORDER BY next_due_at, id LIMIT ?", (limit,)
        )

    async def release_sending(self, now: datetime, reason: str) -> int:
        async with self.transaction() as db:
            cursor = await db.execute(
                "UPDATE deliveries SET status = 'failed', error = ?, retry_at = ?, updated_at = ?"
                " WHERE status = 'sending'",
                (reason, _ts(now), _ts(now)),
            )
            return cursor.rowcount
