"""Numbered SQL migrations, applied in order at start, each in its own transaction.

A file `NNNN_name.sql` is one step. A first line `-- requires: fts5` marks a step that needs an
optional SQLite feature: where the feature is missing the step is recorded as skipped, so the
schema stays usable and the version stays current.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from importlib import resources

import aiosqlite

log = logging.getLogger(__name__)

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    skipped INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def requirement(self) -> str | None:
        first = self.sql.lstrip().splitlines()[0] if self.sql.strip() else ""
        if first.startswith("-- requires:"):
            return first.split(":", 1)[1].strip()
        return None


def bundled_migrations() -> list[Migration]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, name = entry.name.removesuffix(".sql").partition("_")
            found.append(Migration(int(number), name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    return bundled_migrations()[-1].version


def split_statements(sql: str) -> list[str]:
    """Split a script into statements; trigger bodies keep their inner semicolons."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in current.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {current.strip()[:60]}")
    return statements


async def current_version(db: aiosqlite.Connection) -> int:
    await db.execute(_VERSION_TABLE)
    async with db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


async def features(db: aiosqlite.Connection) -> set[str]:
    async with db.execute("PRAGMA compile_options") as cursor:
        options = {row[0] for row in await cursor.fetchall()}
    return {"fts5"} if "ENABLE_FTS5" in options else set()


MIN_SQLITE = (3, 35, 0)  # materialised CTEs, window functions and json_each, which storage relies on


class UnusableDatabase(RuntimeError):
    """This build must not use the database: a newer build migrated it, SQLite is too old, or the
    file is no database at all."""


async def migrate(db: aiosqlite.Connection) -> int:
    """Bring the schema to the newest version; safe when two processes start at once."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise UnusableDatabase(f"SQLite {sqlite3.sqlite_version} is too old: newsdigest needs "
                               f"{'.'.join(map(str, MIN_SQLITE))} or newer (use a newer Python or OS)")
    try:  # built in from 3.38; before that, a compile-time option
        await db.execute("SELECT count(*) FROM json_each('[]')")
    except sqlite3.OperationalError:
        raise UnusableDatabase(f"SQLite {sqlite3.sqlite_version} was built without its JSON functions, "
                               "which newsdigest needs") from None
    found = await current_version(db)
    if found > latest_version():
        raise UnusableDatabase(f"the database is at schema version {found}, newer than this build's "
                          f"{latest_version()}: upgrade newsdigest, or restore a backup made before")
    available = await features(db)
    for migration in bundled_migrations():
        await db.execute("BEGIN IMMEDIATE")
        try:
            if migration.version <= await current_version(db):
                await db.execute("ROLLBACK")
                continue
            needs = migration.requirement
            skipped = needs is not None and needs not in available
            if skipped:
                log.warning("migration %s skipped: SQLite lacks %s", migration.version, needs)
            else:
                for statement in split_statements(migration.sql):
                    await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at, skipped) VALUES (?, ?, ?, ?)",
                (migration.version, migration.name, int(time.time()), int(skipped)),
            )
            await db.execute(f"PRAGMA user_version = {migration.version}")
            await db.execute("COMMIT")
            log.info("applied migration %04d_%s", migration.version, migration.name)
        except BaseException:
            await db.execute("ROLLBACK")
            raise
    return await current_version(db)
