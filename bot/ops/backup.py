"""`newsdigest backup` and `newsdigest restore`: whole-database copies through SQLite's backup API.

A backup is taken while the bot runs: the copy is made in one step inside one read
transaction, so it is the database as of one moment (WAL mode lets the bot keep writing
meanwhile), and it is checked with `PRAGMA integrity_check` before it gets its final name.
A restore needs the bot stopped: it takes the run lock, checks the backup, keeps a copy of the
database it replaces, then swaps the file in whole.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.ops.database import readonly_uri
from bot.ops.runlock import RunLock, lock_path
from storage.migrate import latest_version

log = logging.getLogger(__name__)


class BackupError(Exception):
    """The copy could not be made or checked; nothing was left under the target name."""


@dataclass(frozen=True)
class Copy:
    path: Path
    size: int
    schema: int


def stamp() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def _schema(db: sqlite3.Connection) -> int:
    if not db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()[0]:
        return 0
    return int(db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0])


def _verified_copy(source: sqlite3.Connection, target: Path) -> Copy:
    """Copy `source` into `target` through a temporary name; the target appears only if sound."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)  # pages=-1: one step, one consistent snapshot
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"the copy failed its integrity check: {verdict}")
            schema = _schema(copy)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Copy(target, target.stat().st_size, schema)


def backup(database: Path, target: Path) -> Copy:
    """Copy the live database to `target` (a new file, or a folder to put a dated file in)."""
    if target.is_dir():
        target = target / f"{database.stem}-{stamp()}.db"
    if target.exists():
        raise BackupError(f"{target} already exists; name a new file or a folder")
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    try:
        with closing(sqlite3.connect(readonly_uri(database), uri=True, timeout=30)) as source:
            return _verified_copy(source, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {database}: {exc}") from None


def _check_restorable(source: sqlite3.Connection, backup_file: Path) -> None:
    verdict = source.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise BackupError(f"{backup_file} fails its integrity check: {verdict}")
    schema = _schema(source)
    if schema == 0:  # an empty file opens as an empty database
        raise BackupError(f"{backup_file} is not a newsdigest database (it has no schema_migrations table)")
    if schema > latest_version():
        raise BackupError(f"{backup_file} was written by a newer newsdigest (schema {schema}, "
                          f"this build knows {latest_version()})")


def _unused(path: Path) -> Path:
    """`path`, or the first of path-2, path-3... that is free: two restores can fall in one second."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def restore(backup_file: Path, database: Path) -> Copy | None:
    """Replace the database with `backup_file`; returns the copy kept of the replaced one, if any."""
    if not backup_file.is_file():
        raise BackupError(f"no backup at {backup_file}")
    lock = RunLock(lock_path(database))
    if not lock.acquire():
        raise BackupError(f"the bot is running on {database} (it holds {lock.path}); stop it first")
    try:
        with closing(sqlite3.connect(readonly_uri(backup_file), uri=True)) as source:
            _check_restorable(source, backup_file)
            kept = None
            if database.is_file():
                kept = backup(database, _unused(database.with_name(f"{database.stem}-before-restore-{stamp()}.db")))
            restored = _verified_copy(source, database.with_name(f"{database.name}.restoring"))
        for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)  # they belong to the replaced file, kept above
        os.replace(restored.path, database)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore from {backup_file}: {exc}") from None
    finally:
        lock.release()
    log.info("restored %s from %s", database, backup_file)
    return kept
