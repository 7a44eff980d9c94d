"""`newsdigest health`: exit 0 only for a database at the current schema; with --live, only for a
running bot whose adapters are connected. It never needs a token and never changes the file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.ops.health import check
from bot.ops.runtime import RuntimeStatus, StatusFile
from bot.outbox import Outcome
from storage.migrate import latest_version
from storage.sqlite import SQLiteRepository


def health(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env.update(DATABASE_URL=f"sqlite:///{db}", LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "bot", "health", *args], capture_output=True, text=True,
                          cwd=db.parent, env=env, timeout=60)


async def current_database(path: Path) -> Path:
    repo = await SQLiteRepository.open(path)
    await repo.close()
    return path


def test_no_database_is_unhealthy_and_health_creates_none(tmp_path: Path) -> None:
    result = health(tmp_path / "missing.db")
    assert result.returncode == 1
    assert "no database at" in result.stdout and result.stdout.rstrip().splitlines()[-1].startswith("unhealthy")
    assert not list(tmp_path.iterdir())


def test_a_fresh_database_without_migrations_is_unhealthy(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    sqlite3.connect(db).close()  # an empty SQLite file: no `run` has migrated it
    result = health(db)
    assert result.returncode == 1, result.stdout
    assert "schema not created yet" in result.stdout
    assert db.stat().st_size == 0  # looked at, not migrated


async def test_a_current_database_is_healthy(tmp_path: Path) -> None:
    db = await current_database(tmp_path / "current.db")
    result = health(db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"schema {latest_version()}, current" in result.stdout
    assert "no status at" in result.stdout  # no bot has run here yet; that alone is not unhealthy
    assert result.stdout.rstrip().endswith("healthy")


async def test_an_outdated_database_is_unhealthy_and_left_as_it_is(tmp_path: Path) -> None:
    db = await current_database(tmp_path / "old.db")
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = ?", (latest_version(),))
    result = health(db)
    assert result.returncode == 1
    assert f"schema {latest_version() - 1} is behind this build's {latest_version()}" in result.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == latest_version() - 1


async def test_a_database_from_a_newer_build_is_unhealthy(tmp_path: Path) -> None:
    db = await current_database(tmp_path / "new.db")
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
                     (latest_version() + 1,))
    report = await check(db, tmp_path / "none.json", datetime.now(UTC))
    assert not report.healthy and "newer newsdigest" in report.text()


async def test_live_needs_a_fresh_status_with_every_adapter_connected(tmp_path: Path) -> None:
    db = await current_database(tmp_path / "bot.db")
    status_path = tmp_path / "bot.status.json"
    status = StatusFile(status_path, RuntimeStatus(state="running"))
    status.status.adapter("telegram").enter("connected")
    status.status.adapter("telegram").record(Outcome.SENT)
    status.status.adapter("discord").enter("connected")
    status.status.adapter("discord").record(Outcome.RETRY_LATER, "network error")
    status.status.job_started("digests")
    status.status.job_finished("digests")
    status.write()
    now = datetime.now(UTC)

    report = await check(db, status_path, now, live=True)
    assert report.healthy, report.text()
    assert "telegram: connected since" in report.text() and ": sent" in report.text()
    assert "discord: connected" in report.text() and "retry later (network error)" in report.text()
    assert "job digests: last ran" in report.text() and ", ok" in report.text()

    later = await check(db, status_path, now + timedelta(minutes=5), live=True)
    assert not later.healthy and "no heartbeat from the bot since" in later.text()
    assert (await check(db, status_path, now + timedelta(minutes=5))).healthy  # without --live: the database only

    status.status.adapter("discord").enter("stopping")
    status.write()
    report = await check(db, status_path, now, live=True)
    assert not report.healthy and report.problems == ["discord is stopping"]

    status.enter("stopped")
    assert "the bot is stopped" in (await check(db, status_path, now, live=True)).problems


async def test_live_without_a_status_file_is_unhealthy(tmp_path: Path) -> None:
    db = await current_database(tmp_path / "bot.db")
    result = health(db, "--live")
    assert result.returncode == 1 and "the bot is not running" in result.stdout


async def test_the_heartbeat_reports_a_dropped_connection_and_its_return(tmp_path: Path) -> None:
    import asyncio

    class Link:
        connected = True

    db = await current_database(tmp_path / "bot.db")
    status_path = tmp_path / "bot.status.json"
    status = StatusFile(status_path, RuntimeStatus(state="running"))
    status.status.adapter("telegram").enter("connected")
    link = Link()
    beating = asyncio.create_task(status.heartbeat({"telegram": link}, seconds=0.01))
    try:
        link.connected = False
        await asyncio.sleep(0.05)
        report = await check(db, status_path, datetime.now(UTC), live=True)
        assert report.problems == ["telegram is disconnected"]
        link.connected = True
        await asyncio.sleep(0.05)
        assert (await check(db, status_path, datetime.now(UTC), live=True)).healthy
    finally:
        beating.cancel()
