"""`newsdigest backup` while the database is being written, and `newsdigest restore`."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from bot.ops.backup import BackupError, backup, restore
from bot.ops.runlock import RunLock, lock_path
from storage.migrate import latest_version
from storage.sqlite import SQLiteRepository
from tests.factories import draft

BATCH = 25  # articles per write transaction: a consistent copy holds whole batches only


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env.update(DATABASE_URL=f"sqlite:///{db}", LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=db.parent,
                          env=env, timeout=120)


async def create(db: Path) -> None:
    repo = await SQLiteRepository.open(db)
    await repo.close()


def article_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])


async def test_a_backup_taken_while_writing_opens_and_passes_the_integrity_check(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    repo = await SQLiteRepository.open(db)
    written = 0
    stop = asyncio.Event()

    async def keep_writing() -> None:
        nonlocal written
        while not stop.is_set():
            await repo.store_articles([draft(written + n) for n in range(1, BATCH + 1)])
            written += BATCH

    writer = asyncio.create_task(keep_writing())
    try:
        while written < 10 * BATCH:
            await asyncio.sleep(0.01)
        copies = []
        for n in range(2):
            before = written
            result = await asyncio.to_thread(cli, db, "backup", str(tmp_path / f"copy{n}.db"))
            assert result.returncode == 0, result.stderr
            assert "integrity ok" in result.stdout
            copies.append((tmp_path / f"copy{n}.db", before, written))
    finally:
        stop.set()
        await writer
        await repo.close()
    assert written > copies[-1][1]  # the writer kept going during the copies
    for copy, before, after in copies:
        count = article_count(copy)
        # one moment's state, whole transactions (the writer may not have counted its last commit yet)
        assert before <= count <= after + BATCH and count % BATCH == 0
        assert not Path(f"{copy}-wal").exists()  # a single self-contained file
        reopened = await SQLiteRepository.open(copy)  # the bot can run on it
        assert await reopened.max_article_id() == count
        await reopened.close()
    assert not list(tmp_path.glob(".*partial"))


async def test_a_backup_into_a_folder_gets_a_dated_name_and_never_overwrites(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(1)])
    await repo.close()
    made = cli(db, "backup", f"{tmp_path / 'backups'}/")
    assert made.returncode == 0, made.stderr
    [copy] = (tmp_path / "backups").iterdir()
    assert copy.name.startswith("bot-") and copy.suffix == ".db" and article_count(copy) == 1
    again = cli(db, "backup", str(copy))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert cli(tmp_path / "none.db", "backup", str(tmp_path / "x.db")).returncode == 1


async def test_restore_replaces_the_database_and_keeps_the_old_one(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(n) for n in range(1, 4)])
    await repo.close()
    saved = backup(db, tmp_path / "saved.db")
    repo = await SQLiteRepository.open(db)
    await repo.store_articles([draft(n) for n in range(4, 10)])
    await repo.close()
    assert article_count(db) == 9

    result = cli(db, "restore", str(saved.path))
    assert result.returncode == 0, result.stderr
    assert article_count(db) == 3
    [kept] = tmp_path.glob("bot-before-restore-*.db")
    assert article_count(kept) == 9 and kept.name in result.stdout


async def test_restore_refuses_while_the_bot_runs(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await create(db)
    saved = backup(db, tmp_path / "saved.db")
    running = RunLock(lock_path(db))
    assert running.acquire()
    try:
        result = cli(db, "restore", str(saved.path))
        assert result.returncode == 1 and "stop it first" in result.stderr
    finally:
        running.release()
    assert not list(tmp_path.glob("bot-before-restore-*"))


async def test_restore_refuses_a_damaged_backup_or_one_from_a_newer_build(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await create(db)
    newer = backup(db, tmp_path / "newer.db").path
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
                     (latest_version() + 1,))
    with pytest.raises(BackupError, match="newer newsdigest"):
        restore(newer, db)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="cannot restore"):
        restore(damaged, db)
    assert RunLock(lock_path(db)).acquire()  # a refused restore lets go of the lock


async def test_restore_refuses_a_file_that_is_not_a_newsdigest_database(tmp_path: Path) -> None:
    """An empty file, or another program's database, used to replace the bot's without a word."""
    db = tmp_path / "bot.db"
    await create(db)
    empty = tmp_path / "empty.db"
    empty.touch()
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    for wrong in (empty, other):
        with pytest.raises(BackupError, match="is not a newsdigest database"):
            restore(wrong, db)
    assert not list(tmp_path.glob("bot-before-restore-*"))


async def test_two_restores_in_one_second_keep_both_replaced_databases(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    await create(db)
    saved = backup(db, tmp_path / "saved.db")
    kept = [restore(saved.path, db), restore(saved.path, db)]
    assert all(k is not None for k in kept) and len({k.path for k in kept if k}) == 2
