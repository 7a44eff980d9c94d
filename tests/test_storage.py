"""Storage on real SQLite files: migrations, pragmas, dedupe, visibility, search."""

import dataclasses
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiosqlite
import pytest

from bot.model import BiasRating, ChatRef
from storage.migrate import UnusableDatabase, bundled_migrations, latest_version, migrate, split_statements
from storage.repository import DuplicateSource
from storage.sqlite import SQLiteRepository
from tests.factories import draft


async def test_fresh_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    repo = await SQLiteRepository.open(tmp_path / "fresh.db")
    await repo.close()
    with sqlite3.connect(tmp_path / "fresh.db") as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [m.version for m in bundled_migrations()]
        assert db.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_existing_database_gets_only_the_missing_migrations(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:  # a database from version 1
        first = bundled_migrations()[0]
        for statement in split_statements(first.sql):
            await db.execute(statement)
        await db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                         " applied_at INTEGER NOT NULL, skipped INTEGER NOT NULL DEFAULT 0)")
        await db.execute("INSERT INTO schema_migrations VALUES (1, 'initial', 0, 0)")
        await db.execute("INSERT INTO sources (name, name_key, created_at) VALUES ('Old Outlet', 'old outlet', 0)")
        await db.execute("INSERT INTO articles (source_id, title, lead, sort_at, dedupe_key, stored_at)"
                         " VALUES (1, 'Kept from before', 'An older lead about lighthouses.', 0, 'k', 0)")
    repo = await SQLiteRepository.open(path)
    try:
        found = await repo.search_articles(None, ["lighthouses"], 5)  # the search index covers old rows
        assert [a.title for a in found] == ["Kept from before"]
    finally:
        await repo.close()
    async with aiosqlite.connect(path) as db:
        assert await migrate(db) == latest_version()  # running again changes nothing


async def test_pragmas_are_set_per_connection(repo: SQLiteRepository) -> None:
    async with repo.db.execute("PRAGMA foreign_keys") as cursor:
        assert (await cursor.fetchone())[0] == 1
    async with repo.db.execute("PRAGMA busy_timeout") as cursor:
        assert (await cursor.fetchone())[0] >= 5000


def test_trigger_bodies_stay_whole_when_split() -> None:
    statements = split_statements("CREATE TABLE t (a);\nCREATE TRIGGER x AFTER INSERT ON t BEGIN\n"
                                  "  INSERT INTO t VALUES (1);\n  INSERT INTO t VALUES (2);\nEND;\n")
    assert len(statements) == 2 and statements[1].count("INSERT INTO") == 2


async def test_a_publish_time_no_summary_can_have_is_stored_as_unknown(repo: SQLiteRepository) -> None:
    """A feed's year-1 date was stored as given and could not be read back: every listing failed."""
    slip = dataclasses.replace(draft(1), published_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))
    await repo.store_articles([slip, draft(2)])
    published = {a.title: a.published_at for a in await repo.latest_articles(None, 5)}
    assert published == {slip.title: None, draft(2).title: draft(2).published_at}


async def test_same_guid_or_same_canonical_url_is_the_same_article(repo: SQLiteRepository) -> None:
    first = await repo.store_articles([draft(1, guid="g-1"), draft(2)])
    assert first.new == 2
    again = await repo.store_articles([
        draft(1, guid="g-1"),  # identical
        draft(2, url="https://plainviewtimes.example/story/2?utm_source=x&utm_medium=y#top"),  # tracking URL
        dataclasses.replace(draft(1, guid="g-1"), url="https://other.example/moved"),  # same guid, new URL
    ])
    assert (again.new, again.unchanged, again.updated) == (0, 1, 2)
    assert await repo.max_article_id() == 2


async def test_a_copy_through_a_tracking_link_changes_nothing_and_no_tracking_is_kept(
        repo: SQLiteRepository) -> None:
    """The copy replaced the clean link with the tracking one, and every import of the pair counted
    both as updated."""
    tracked = draft(1, url="https://plainviewtimes.example/story/1?utm_source=twitter&fbclid=abc")
    first = await repo.store_articles([tracked, draft(1)])
    again = await repo.store_articles([draft(1), tracked])
    assert (first.new, first.updated, again.unchanged) == (1, 0, 2)
    [article] = await repo.latest_articles(None, 5)
    assert article.url == "https://plainviewtimes.example/story/1"
    tags = await repo.store_articles([draft(2, url="https://plainviewtimes.example/s?tag=a&tag=b&utm_source=t#k")])
    tagged = await repo.get_article(tags.new_ids[0])
    assert tagged is not None and tagged.url == "https://plainviewtimes.example/s?tag=a&tag=b#k"  # both tags kept


async def test_an_updated_entry_keeps_its_id(repo: SQLiteRepository) -> None:
    stored = await repo.store_articles([draft(1)])
    result = await repo.store_articles([draft(1, lead="A corrected lead about harbour cranes.")])
    assert (result.new, result.updated) == (0, 1)
    article = await repo.get_article(stored.new_ids[0])
    assert article is not None and article.lead == "A corrected lead about harbour cranes."


async def test_copies_within_one_batch_are_one_article(repo: SQLiteRepository) -> None:
    corrected = draft(1, lead="A corrected lead about harbour cranes.")
    result = await repo.store_articles([draft(1), corrected, corrected, draft(2)])
    assert (result.new, result.updated, result.unchanged) == (2, 1, 1)
    assert await repo.max_article_id() == 2
    article = await repo.get_article(result.new_ids[0])
    assert article is not None and article.lead == corrected.lead
    again = await repo.store_articles([dataclasses.replace(corrected, guid="g-9"), draft(2)])  # found by URL
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)


async def test_an_empty_guid_identifies_nothing(repo: SQLiteRepository) -> None:
    """JSON feeds can carry "id": "" on every item; those are different articles, not one."""
    drafts = [draft(n, guid="") for n in range(1, 4)]
    assert (await repo.store_articles(drafts)).new == 3
    assert (await repo.store_articles([draft(4, guid="")])).new == 1
    again = await repo.store_articles(drafts)
    assert (again.new, again.unchanged) == (0, 3)


async def test_the_id_of_a_deleted_newest_article_is_not_given_again(repo: SQLiteRepository) -> None:
    """A chat's digest cursor sits at the newest id; an article given that id again would be skipped."""
    await repo.store_articles([draft(1), draft(2)])
    [newest] = (await repo.store_articles([draft(3, "Local Gazette")])).new_ids
    gazette = await repo.find_source("Local Gazette", None)
    assert gazette is not None
    await repo.remove_source(gazette.id)
    assert await repo.max_article_id() == newest - 1
    [after] = (await repo.store_articles([draft(4)])).new_ids
    assert after == newest + 1


async def test_one_batch_naming_many_outlets_creates_each_source_once(repo: SQLiteRepository) -> None:
    names = [f"Outlet {n}" for n in range(40)]
    result = await repo.store_articles([draft(n, names[n % 40]) for n in range(120)])
    assert result.new == 120
    sources = await repo.list_sources(None)
    assert sorted(s.name for s in sources) == sorted(names)
    by_source = {s.id: 0 for s in sources}
    for article in await repo.latest_articles(None, 120):
        by_source[article.source_id] += 1
    assert set(by_source.values()) == {3}


async def test_a_chat_s_own_source_of_an_outlet_takes_its_articles(repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(1, "Local Gazette")], scope="telegram:-100")
    await repo.store_articles([draft(2, "Local Gazette")])  # a global source of the same name, elsewhere
    own = await repo.find_source("Local Gazette", "telegram:-100")
    assert own is not None and own.scope == "telegram:-100" and len(await repo.all_sources()) == 2
    [article_id] = (await repo.store_articles([draft(3, "Local Gazette")], scope="telegram:-100")).new_ids
    article = await repo.get_article(article_id)
    assert article is not None and article.source_id == own.id


async def test_outlet_sources_are_created_once_and_blanks_filled(repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(1, "Harbour Courier"), draft(2, "Harbour Courier")])
    sources = await repo.list_sources(None)
    assert [(s.name, s.bias) for s in sources] == [("Harbour Courier", BiasRating.LEAN_LEFT)]
    await repo.set_bias(sources[0].id, BiasRating.CENTER)  # an admin's choice survives later imports
    await repo.store_articles([draft(3, "Harbour Courier")])
    assert (await repo.get_source(sources[0].id)).bias is BiasRating.CENTER


async def test_chat_sources_are_visible_only_in_their_chat(repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(1)])
    await repo.store_articles([draft(2, "Local Gazette")], scope="telegram:-100")
    assert len(await repo.latest_articles("telegram:-100", 10)) == 2
    assert [a.title for a in await repo.latest_articles("telegram:-200", 10)] == [draft(1).title]
    assert await repo.find_source("Local Gazette", "telegram:-200") is None
    assert await repo.find_source("local gazette", "telegram:-100") is not None


async def test_duplicate_source_names_and_feeds_are_refused(repo: SQLiteRepository) -> None:
    await repo.add_source("Ledger Wire", feed_url="https://ledgerwire.example/feed")
    with pytest.raises(DuplicateSource):
        await repo.add_source("ledger wire")
    with pytest.raises(DuplicateSource):
        await repo.add_source("Other name", feed_url="https://ledgerwire.example/feed", scope="discord:1")


async def test_search_words_cannot_inject_fts_syntax(repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(1, title="Cranes: NEAR the quay"), draft(2, title="Unrelated ferry news")])
    for words in (["NEAR(", "quay"], ['"'], ["title:cranes"], ["*"], ["AND", "OR"]):
        await repo.search_articles(None, words, 5)  # must not raise an FTS syntax error
    assert [a.id for a in await repo.search_articles(None, ["cran"], 5)] == [1]  # prefix match


async def test_removing_a_source_removes_its_articles(repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(1, "Harbour Courier"), draft(2, "Ledger Wire")])
    courier = await repo.find_source("Harbour Courier", None)
    await repo.remove_source(courier.id)
    assert [a.source_id for a in await repo.latest_articles(None, 10)] != [courier.id]
    assert len(await repo.latest_articles(None, 10)) == 1


async def test_chat_move_follows_subscriptions_and_sources(repo: SQLiteRepository) -> None:
    from datetime import UTC, datetime

    from bot.model import Schedule

    old = ChatRef("telegram", "-1")
    await repo.save_subscription(old, Schedule(), datetime(2026, 1, 1, tzinfo=UTC))
    await repo.store_articles([draft(1, "Local Gazette")], scope=old.scope)
    await repo.move_chat(old, "-1001")
    assert await repo.get_subscription(old) is None
    assert await repo.get_subscription(ChatRef("telegram", "-1001")) is not None
    assert await repo.find_source("Local Gazette", "telegram:-1001") is not None


async def test_a_gone_thread_disables_only_that_thread(repo: SQLiteRepository) -> None:
    from datetime import UTC, datetime

    from bot.model import Schedule

    due = datetime(2026, 1, 1, tzinfo=UTC)
    for thread in (None, "t1", "t2"):
        await repo.save_subscription(ChatRef("discord", "9", thread), Schedule(), due)
    assert await repo.disable_chat(ChatRef("discord", "9", "t1"), "404 Unknown Channel") == 1
    enabled = [(await repo.get_subscription(ChatRef("discord", "9", t))).enabled for t in (None, "t1", "t2")]
    assert enabled == [True, False, True]
    assert await repo.disable_chat(ChatRef("discord", "9"), "kicked") == 2


async def test_an_sqlite_too_old_for_the_queries_is_refused_clearly(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(UnusableDatabase, match=r"SQLite 3\.31\.1 is too old: newsdigest needs 3\.35\.0 or newer"):
        await SQLiteRepository.open(tmp_path / "old-sqlite.db")
