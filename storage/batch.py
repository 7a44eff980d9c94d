"""Sorting one batch of drafts into new, changed and unchanged articles, without the database.

The SQLite store fetches every stored article a batch could match in one query, then asks this
module what each draft is. Drafts are taken in order, so a second copy of an article within the
same batch is matched against the first, exactly as if they had come in two batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.model import ArticleDraft, dedupe_key, plausible_time
from bot.urls import canonical_url, without_tracking

KNOWN_COLUMNS = ("id, source_id, dedupe_key, canonical_url, guid, sort_at, title, lead, key_points, url,"
                 " published_at, ai_generated")


@dataclass
class Row:
    """An article as the articles table holds it: one being stored, or one found stored."""

    id: int
    source_id: int
    dedupe_key: str
    canonical_url: str | None
    guid: str | None
    sort_at: int
    fields: tuple[Any, ...]  # title, lead, key_points (JSON), url, published_at, ai_generated: what a copy changes

    @classmethod
    def of(cls, draft: ArticleDraft, source_id: int, now: int) -> Row:
        canonical = canonical_url(draft.url)
        when = draft.published_at
        published = int(when.timestamp()) if when and plausible_time(when) else None  # a feed's slip: unknown
        guid = draft.guid or None  # an empty id ("id": "" in a JSON feed) identifies nothing
        return cls(0, source_id, dedupe_key(canonical, guid, draft.outlet.name, draft.title), canonical,
                   guid, min(published or now, now),
                   (draft.title, draft.lead, json.dumps(list(draft.key_points), ensure_ascii=False),
                    without_tracking(draft.url), published, int(draft.ai_generated)))

    @classmethod
    def stored(cls, row: tuple[Any, ...]) -> Row:
        """From a row of KNOWN_COLUMNS."""
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], tuple(row[6:]))

    @property
    def text(self) -> tuple[str, str, tuple[str, ...]]:
        """Title, lead and key points: what story clustering reads."""
        return self.fields[0], self.fields[1], tuple(json.loads(self.fields[2]))


@dataclass
class Sorted:
    new: list[Row]
    changed: list[Row]  # stored before this batch, with their new fields
    updated: int  # copies that changed an article, new in this batch or not
    unchanged: int


class _Known:
    """The articles a draft can be a copy of, by each identity the unique indexes enforce."""

    def __init__(self, rows: list[Row]) -> None:
        self.by_key: dict[str, Row] = {}
        self.by_url: dict[str, Row] = {}
        self.by_guid: dict[tuple[int, str], Row] = {}
        for row in rows:
            self.add(row)

    def add(self, row: Row) -> None:
        self.by_key.setdefault(row.dedupe_key, row)
        if row.canonical_url:
            self.by_url.setdefault(row.canonical_url, row)
        if row.guid:
            self.by_guid.setdefault((row.source_id, row.guid), row)

    def find(self, row: Row) -> Row | None:
        return (self.by_key.get(row.dedupe_key)
                or (self.by_url.get(row.canonical_url) if row.canonical_url else None)
                or (self.by_guid.get((row.source_id, row.guid)) if row.guid else None))


def sort_batch(incoming: list[Row], stored: list[Row], next_id: int) -> Sorted:
    """New drafts get ids from next_id on; a changed copy takes its fields to the article it copies."""
    known = _Known(stored)
    stored_ids = {row.id for row in stored}
    new: list[Row] = []
    changed: dict[int, Row] = {}
    updated = unchanged = 0
    for row in incoming:
        match = known.find(row)
        if match is None:
            row.id = next_id
            next_id += 1
            known.add(row)
            new.append(row)
        elif match.fields == row.fields:
            unchanged += 1
        else:
            match.fields = row.fields
            updated += 1
            if match.id in stored_ids:
                changed[match.id] = match
    return Sorted(new, list(changed.values()), updated, unchanged)
