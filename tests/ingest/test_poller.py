"""Polling sources into storage, their health, and the commands and CLI that manage them."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.commands.all import COMMANDS
from bot.config import Settings
from bot.core import Core
from bot.ingest.fetch import FeedFetcher, FetchResult
from bot.ingest.poller import FeedPoller
from bot.model import BiasRating
from storage.sqlite import SQLiteRepository
from tests.conftest import console_request

from .feedserver import FeedServer

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def poller(repo: SQLiteRepository) -> AsyncIterator[FeedPoller]:
    async with FeedFetcher(allow_private=True, per_host_interval=0) as fetcher:
        yield FeedPoller(repo, fetcher, Clock(), max_failures=3)


@pytest.fixture
def bot(repo: SQLiteRepository, settings: Settings, poller: FeedPoller) -> Core:
    return Core(repo, settings, COMMANDS, clock=poller.clock, poller=poller)


async def test_a_feed_is_stored_once_across_polls_with_conditional_get(
        repo: SQLiteRepository, poller: FeedPoller, feed_server: FeedServer) -> None:
    source = await repo.add_source("Conditional", feed_url=feed_server.url("/conditional.xml"))
    first = await poller.poll(source)
    assert first.status == "new" and first.new >= 2
    poller.clock.now += timedelta(minutes=15)  # type: ignore[attr-defined]
    [second] = await poller.poll_due()
    assert second.status == "unchanged"
    assert feed_server.state.headers_for("/conditional.xml").get("If-None-Match") is None
    assert feed_server.state.requests[-1][1].get("If-None-Match") == '"v7"'  # the second asked conditionally
    assert await repo.max_article_id() == first.new


async def test_seed_shaped_items_are_filed_under_the_outlets_they_name(
        repo: SQLiteRepository, poller: FeedPoller, feed_server: FeedServer) -> None:
    source = await repo.add_source("Balanced Brief", feed_url=feed_server.url("/summaries.xml"))
    await poller.poll(source)
    ledger = await repo.find_source("The Harbor Ledger", None)
    assert ledger is not None and ledger.bias is BiasRating.LEAN_RIGHT


async def test_one_bad_source_never_stops_the_others_and_backs_off_then_disables(
        repo: SQLiteRepository, poller: FeedPoller, feed_server: FeedServer) -> None:
    good = await repo.add_source("Good", feed_url=feed_server.url("/atom.xml"))
    bad = await repo.add_source("Bad", feed_url=feed_server.url("/status/500"))
    laughs = await repo.add_source("Laughs", feed_url=feed_server.url("/invalid.xml"))
    outcomes = {o.source.name: o for o in await poller.poll_due()}
    assert outcomes["Good"].status == "new"
    assert outcomes["Bad"].status == "error" and "HTTP 500" in outcomes["Bad"].reason
    assert outcomes["Laughs"].status == "error"
    delays = []
    for _ in range(2):
        stored = await repo.get_source(bad.id)
        delays.append(stored.next_poll_at - poller.clock.now)  # type: ignore[attr-defined]
        poller.clock.now = stored.next_poll_at  # type: ignore[attr-defined]
        await poller.poll_due()
    assert delays == [timedelta(minutes=30), timedelta(minutes=60)]  # doubling per failure
    disabled = await repo.get_source(bad.id)
    assert not disabled.enabled and "3 failures in a row; disabled" in disabled.disabled_reason
    assert (await repo.get_source(good.id)).failures == 0
    assert laughs.id  # polled alongside, failing on its own


async def test_a_source_removed_while_its_feed_is_fetched_stays_removed(repo: SQLiteRepository,
                                                                        feed_server: FeedServer) -> None:
    """Its entries used to be stored anyway, which made its outlet a source again."""
    source = await repo.add_source("Harbour Feed", feed_url=feed_server.url("/atom.xml"))

    class RemovedOnTheWay:
        def __init__(self, fetcher: FeedFetcher) -> None:
            self.fetcher = fetcher

        async def fetch(self, url: str, **validators: str | None) -> object:
            result = await self.fetcher.fetch(url, **validators)
            await repo.remove_source(source.id)  # /removesource, answered while the feed was on its way
            return result

    async with FeedFetcher(allow_private=True, per_host_interval=0) as fetcher:
        outcome = await FeedPoller(repo, RemovedOnTheWay(fetcher), Clock()).poll(source)  # type: ignore[arg-type]
    assert (outcome.status, outcome.line()) == ("removed", "#1 Harbour Feed: removed (removed while it was polled)")
    assert await repo.all_sources() == [] and await repo.max_article_id() == 0


async def test_two_pollers_on_one_round_count_its_failure_once(repo: SQLiteRepository, tmp_path: Path) -> None:
    """`ingest --once` beside a run: each poller counted the round's failure, so a feed was disabled
    after half its failures, and backed off twice as fast."""
    class Failing:
        async def fetch(self, url: str, **validators: str | None) -> FetchResult:
            return FetchResult("error", url, reason="HTTP 500")

    source = await repo.add_source("Flaky", feed_url="https://flaky.example/feed")
    other = await SQLiteRepository.open(tmp_path / "test.db")  # another process's connection
    try:
        pollers = [FeedPoller(store, Failing(), Clock()) for store in (repo, other)]  # type: ignore[arg-type]
        for round_ in range(1, 4):
            polled = await repo.get_source(source.id)
            assert polled is not None
            await asyncio.gather(*(poller.poll(polled) for poller in pollers))
            counted = await repo.get_source(source.id)
            assert counted is not None and counted.failures == round_
    finally:
        await other.close()


async def test_addsource_checks_the_feed_first(bot: Core, repo: SQLiteRepository, feed_server: FeedServer) -> None:
    operator = console_request()
    reply = await bot.handle_text(operator, f"/addsource {feed_server.url('/rss2.xml')} lean right")
    assert reply.text.startswith("Added source #1 Lantern Street Notes (Lean Right) for every chat: 2 items found,"
                                 " 2 skipped for want of a title or text;")  # the feed has four: say why not
    again = await bot.handle_text(operator, f"/addsource {feed_server.url('/rss2.xml')}")
    assert again.text.startswith("Not added:") and "already" in again.text
    html = await bot.handle_text(operator, f"/addsource {feed_server.url('/page.html')}")
    assert html.text.startswith(f"Cannot add {feed_server.url('/page.html')}: not a feed")
    missing = await bot.handle_text(operator, f"/addsource {feed_server.url('/status/404')}")
    assert missing.text.endswith("HTTP 404")
    assert "must start with http" in (await bot.handle_text(operator, "/addsource ftp://x")).text
    assert "Unknown bias rating" in (await bot.handle_text(operator, f"/addsource {feed_server.url('/atom.xml')} purple")).text
    assert len(await repo.all_sources()) == 1


async def test_private_addresses_are_refused_unless_allowed(repo: SQLiteRepository, settings: Settings,
                                                            feed_server: FeedServer) -> None:
    async with FeedFetcher(per_host_interval=0) as fetcher:  # the default: no private addresses
        core = Core(repo, settings, COMMANDS, poller=FeedPoller(repo, fetcher, Clock()))
        reply = await core.handle_text(console_request(), f"/addsource {feed_server.url('/rss2.xml')}")
    assert "private" in reply.text.lower() or "loopback" in reply.text.lower()
    assert feed_server.state.requests == []


async def test_chat_admins_manage_their_own_sources_only(bot: Core, repo: SQLiteRepository,
                                                         feed_server: FeedServer) -> None:
    admin = console_request(platform="telegram", chat_id="-7", user="42")
    member = console_request(platform="telegram", chat_id="-7", user="43", admin=False)
    reply = await bot.handle_text(admin, f"/addsource {feed_server.url('/atom.xml')} center")
    assert "for this chat" in reply.text
    [local] = await repo.list_sources("telegram:-7")
    assert local.scope == "telegram:-7" and await repo.list_sources("telegram:-8") == []
    shared = await repo.add_source("Shared Wire", bias=BiasRating.CENTER)
    refused = await bot.handle_text(admin, "/setbias Shared Wire right")
    assert "only the bot's operators" in refused.text
    assert (await repo.get_source(shared.id)).bias is BiasRating.CENTER
    assert "only this chat's admins" in (await bot.handle_text(member, f"/removesource {local.id}")).text
    assert "now rated Lean Left" in (await bot.handle_text(admin, f"/setbias {local.name} lean left")).text
    assert "Removed source" in (await bot.handle_text(admin, f"/removesource {local.id}")).text
    assert "only the bot's operators" in (await bot.handle_text(admin, "/removesource Shared Wire")).text


async def test_sources_shows_health(bot: Core, repo: SQLiteRepository, poller: FeedPoller,
                                    feed_server: FeedServer) -> None:
    await repo.add_source("Flaky", feed_url=feed_server.url("/status/503"))
    await poller.poll_due()
    reply = await bot.handle_text(console_request(), "/sources")
    assert any("failing (1x): HTTP 503" in str(part) for part in reply.parts)


async def cli(*args: str, db: Path) -> tuple[int, str, str]:
    """The real CLI in a subprocess, awaited so the feed server in this loop keeps answering."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "NEWSDIGEST_ALLOW_PRIVATE_SOURCES": "true",
           "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_sources_cli_and_opml_round_trip(tmp_path: Path, feed_server: FeedServer) -> None:
    db = tmp_path / "cli.db"
    code, out, _ = await cli("sources", "add", feed_server.url("/atom.xml"), "--bias", "center", db=db)
    assert code == 0 and out.startswith("added #1") and "(Center)" in out
    code, _, err = await cli("sources", "add", feed_server.url("/page.html"), db=db)
    assert code == 1 and "not a feed" in err
    opml = tmp_path / "feeds.opml"
    code, out, _ = await cli("sources", "export-opml", str(opml), db=db)
    assert code == 0 and "wrote 1 feeds" in out
    other = tmp_path / "other.db"
    code, out, _ = await cli("sources", "import-opml", str(opml), db=other)
    assert code == 0 and out.strip() == "added 1 feeds, skipped 0 already known"
    code, out, _ = await cli("ingest", "--once", db=other)
    assert code == 0 and ": new (" in out
    code, out, _ = await cli("sources", "list", db=other)
    assert feed_server.url("/atom.xml") in out
    code, out, _ = await cli("sources", "check", db=other)
    assert code == 0 and ": ok (" in out


@pytest.mark.parametrize("every, complaint", [("0", "at least 1 minute, not 0"), ("-5", "at least 1 minute, not -5"),
                                              ("ten", "not a whole number of minutes: 'ten'")])
async def test_a_poll_interval_under_a_minute_is_refused(tmp_path: Path, feed_server: FeedServer, every: str,
                                                        complaint: str) -> None:
    """--every 0 was accepted, and the poller then fetched that feed without pause."""
    code, _, err = await cli("sources", "add", feed_server.url("/atom.xml"), "--every", every, db=tmp_path / "cli.db")
    assert code == 2 and complaint in err and "Traceback" not in err


async def test_sources_cli_errors_are_one_line_and_fail(tmp_path: Path, feed_server: FeedServer) -> None:
    """A folder or a missing folder for the OPML file gave a traceback; an unknown source to
    check printed nothing and succeeded."""
    db = tmp_path / "cli.db"
    assert (await cli("sources", "add", feed_server.url("/atom.xml"), db=db))[0] == 0
    for target, complaint in ((tmp_path, "Is a directory"), (tmp_path / "no" / "x.opml", "No such file")):
        code, _, err = await cli("sources", "export-opml", str(target), db=db)
        assert code == 1 and complaint in err and "Traceback" not in err
    code, _, err = await cli("sources", "check", "999", db=db)
    assert code == 1 and "no feed source 999" in err
    assert (await cli("sources", "check", "#1", db=db))[0] == 0


async def test_a_disabled_source_can_be_enabled_again(tmp_path: Path) -> None:
    db = tmp_path / "enable.db"
    repo = await SQLiteRepository.open(db)
    source = await repo.add_source("Flaky", feed_url="https://flaky.example/feed")
    await repo.record_failure(source.id, NOW, NOW, "HTTP 500 (10 failures in a row; disabled)", 1, disable=True)
    await repo.close()
    code, out, _ = await cli("sources", "enable", "flaky", db=db)
    assert code == 0 and out.startswith(f"enabled #{source.id} Flaky")
    repo = await SQLiteRepository.open(db)
    enabled = await repo.get_source(source.id)
    due = await repo.due_feeds(NOW, 10)
    await repo.close()
    assert enabled.enabled and enabled.failures == 0 and enabled.health == ""
    assert [s.id for s in due] == [source.id]
    code, _, err = await cli("sources", "enable", "nobody", db=db)
    assert code == 1 and "no source 'nobody'" in err
