"""The operator's overview: `/status` in chat (operators only) and `newsdigest status` in a terminal."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core import Core
from bot.model import ChatRef, DeliveryStatus, Schedule
from bot.ops.runtime import RuntimeStatus, StatusFile
from bot.ops.status import overview
from bot.render.text import render_text
from storage.migrate import latest_version
from storage.sqlite import SQLiteRepository
from tests.conftest import console_request
from tests.factories import OUTLETS, claim, draft

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)


async def populate(repo: SQLiteRepository) -> None:
    """Sources in three states, subscriptions on two platforms, and a ledger with a day's history."""
    await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
    failing = await repo.add_source("Broken Feed", feed_url="https://broken.example/feed")
    await repo.record_failure(failing.id, NOW, NOW + timedelta(minutes=15), "HTTP 503", 1)
    gone = await repo.add_source("Retired Feed", feed_url="https://retired.example/feed", scope="telegram:-7")
    await repo.set_source_enabled(gone.id, False, "404 for a week")
    healthy = await repo.add_source("Good Feed", feed_url="https://good.example/feed")
    await repo.record_poll(healthy.id, NOW - timedelta(minutes=3), NOW + timedelta(minutes=12))

    daily = Schedule(("07:00",))
    sent_to = await repo.save_subscription(ChatRef("telegram", "-100"), daily, SLOT)
    failed_at = await repo.save_subscription(ChatRef("telegram", "-200"), daily, SLOT)
    await repo.save_subscription(ChatRef("discord", "300", "301"), daily, SLOT + timedelta(days=1))
    await repo.disable_chat(ChatRef("discord", "300"), "Missing Access")
    tomorrow = SLOT + timedelta(days=1)
    delivery = await claim(repo, sent_to, SLOT, tomorrow, [1, 2], 6, SLOT)
    assert delivery is not None
    await repo.finish_delivery(delivery, DeliveryStatus.SENT, SLOT + timedelta(seconds=4), ("m1",))
    old = await claim(repo, failed_at, SLOT - timedelta(days=2), SLOT, [1], 6, SLOT - timedelta(days=2))
    assert old is not None
    await repo.finish_delivery(old, DeliveryStatus.FAILED, SLOT - timedelta(days=2), error="an old failure")
    recent = await claim(repo, failed_at, SLOT, tomorrow, [1], 6, SLOT)
    assert recent is not None
    await repo.finish_delivery(recent, DeliveryStatus.FAILED, SLOT + timedelta(seconds=9), error="Forbidden: kicked")


async def test_the_overview_shows_sources_subscriptions_deliveries_and_recent_failures(
        repo: SQLiteRepository) -> None:
    await populate(repo)
    runtime = RuntimeStatus(state="running", updated_at=NOW, started_at=NOW - timedelta(hours=1))
    runtime.adapter("telegram").enter("connected")
    text = "\n".join(render_text(await overview(repo, runtime, NOW)))

    assert "bot: running, pid" in text and "telegram: connected since" in text
    assert "Sources: 9, 2 with problems" in text
    lines = text.splitlines()
    first_source = next(i for i, line in enumerate(lines) if line.startswith("Sources:")) + 1
    assert "Broken Feed" in lines[first_source] and "failing (1x): HTTP 503" in lines[first_source]
    assert "Retired Feed" in lines[first_source + 1]
    assert "disabled: 404 for a week (owned by telegram:-7)" in lines[first_source + 1]
    assert "Good Feed · Unrated — ok, polled 2026-11-28 11:57:00 UTC" in text
    assert "Harbour Courier · Lean Left — no feed: imported summaries only" in text
    assert "discord: 0 active, 1 disabled" in text and "telegram: 2 active, 0 disabled" in text
    assert "last: telegram:-100, slot 2026-11-28 07:00:00 UTC, sent 2026-11-28 07:00:04 UTC" in text
    assert "next: telegram:-100 at 2026-11-29 07:00:00 UTC" in text
    assert "next: discord:300" not in text  # disabled: nothing is due there
    assert "0 sending, 1 sent, 1 failed, 0 skipped" in text  # the old failure is outside the 24 hours
    assert "failed: telegram:-200, slot 2026-11-28 07:00:00 UTC, 2026-11-28 07:00:09 UTC: Forbidden: kicked" in text
    assert "an old failure" not in text


async def test_the_chat_overview_lists_troubled_sources_first_and_says_how_many_are_left_out(
        repo: SQLiteRepository) -> None:
    await populate(repo)
    text = "\n".join(render_text(await overview(repo, None, NOW, source_limit=2)))
    assert "bot: no status file" in text
    assert "Broken Feed" in text and "Retired Feed" in text and "Good Feed" not in text
    assert "… and 7 more" in text


async def test_status_is_for_operators_only(core: Core, repo: SQLiteRepository) -> None:
    await populate(repo)
    StatusFile(core.settings.status_path, RuntimeStatus(state="running")).write()
    operator = console_request(platform="telegram", user="1", chat_id="1")
    reply = await core.handle_text(operator, "/status")
    assert reply is not None and reply.ephemeral
    text = "\n".join(render_text(reply))
    assert "newsdigest status" in text and "bot: running" in text and "Broken Feed" in text
    member = console_request(platform="telegram", user="2", chat_id="-100")
    refused = await core.handle_text(member, "/status")
    assert refused is not None and refused.text == "Sorry, only the bot's operators can use /status."
    member_help = await core.handle_text(member, "/help")
    operator_help = await core.handle_text(operator, "/help")
    assert member_help is not None and operator_help is not None
    assert "/status" not in member_help.text and "/status" in operator_help.text


def status_cli(db: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env.update(DATABASE_URL=f"sqlite:///{db}", LOG_LEVEL="WARNING")
    return subprocess.run([sys.executable, "-m", "bot", "status"], capture_output=True, text=True, cwd=db.parent,
                          env=env, timeout=60)


async def test_the_status_command_line_reads_without_changing_anything(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    repo = await SQLiteRepository.open(db)
    await populate(repo)
    await repo.close()
    result = status_cli(db)
    assert result.returncode == 0, result.stderr
    assert "Sources: 9, 2 with problems" in result.stdout and "Good Feed" in result.stdout  # no cut here
    assert "telegram: 2 active, 0 disabled" in result.stdout

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = ?", (latest_version(),))
    outdated = status_cli(db)
    assert outdated.returncode == 1 and "start `newsdigest run` once to migrate" in outdated.stderr
    with sqlite3.connect(db) as conn:  # not migrated behind the operator's back
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] == latest_version() - 1
