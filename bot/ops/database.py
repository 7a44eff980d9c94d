"""Opening the database to look, never to change: no file is created and no migration runs.

`health` and `status` must be safe next to a running bot and on a copy, so they open the file
read-only and compare its schema version with the migrations this build ships.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from storage.migrate import latest_version
from storage.sqlite import SQLiteRepository


class DatabaseProblem(Exception):
    """The database is missing, unreadable or not at the schema this build expects."""


@dataclass(frozen=True)
class Schema:
    version: int
    latest: int

    @property
    def current(self) -> bool:
        return self.version == self.latest

    def describe(self) -> str:
        if self.version == 0:
            return f"schema not created yet (this build migrates to {self.latest}; `newsdigest run` does it)"
        if self.version < self.latest:
            return (f"schema {self.version} is behind this build's {self.latest}: "
                    "start `newsdigest run` once to migrate")
        if self.version > self.latest:
            return f"schema {self.version} was written by a newer newsdigest (this build knows {self.latest})"
        return f"schema {self.version}, current"


def readonly_uri(path: Path) -> str:
    return f"file:{quote(str(path.resolve()))}?mode=ro"


async def schema_version(db: aiosqlite.Connection) -> int:
    """The highest applied migration; 0 for a file no `run` has migrated (unlike
    storage.migrate.current_version, this creates nothing, so it works read-only)."""
    async with db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
                          ) as cursor:
        row = await cursor.fetchone()
    if not row or not row[0]:
        return 0
    async with db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


@asynccontextmanager
async def open_readonly(path: Path) -> AsyncIterator[tuple[aiosqlite.Connection, Schema]]:
    if not path.is_file():
        raise DatabaseProblem(f"no database at {path} (`newsdigest run` or `newsdigest import` creates it)")
    try:
        db = await aiosqlite.connect(readonly_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise DatabaseProblem(f"cannot open {path}: {exc}") from None
    try:
        await db.execute("PRAGMA busy_timeout = 5000")
        try:
            schema = Schema(await schema_version(db), latest_version())
        except sqlite3.Error as exc:
            raise DatabaseProblem(f"cannot read {path}: {exc}") from None
        yield db, schema
    finally:
        await db.close()


@asynccontextmanager
async def open_repository(path: Path) -> AsyncIterator[SQLiteRepository]:
    """The repository on a read-only connection, for reports; refuses a schema it does not know."""
    async with open_readonly(path) as (db, schema):
        if not schema.current:
            raise DatabaseProblem(f"{path}: {schema.describe()}")
        async with db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'articles_fts'") as cursor:
            row = await cursor.fetchone()
        yield SQLiteRepository(db, has_fts=bool(row and row[0]))
