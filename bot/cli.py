"""The `newsdigest` command line: demo, console, import, run, sources, ingest and the operator's
health, status, backup and restore."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from bot import cli_sources, logs
from bot.commands.all import COMMANDS
from bot.config import ConfigError, Settings, load_settings
from bot.core import Core, utc_now
from bot.digest import build_digest, item_lines
from bot.importer import SummaryImportError, import_paths
from bot.ingest.fetch import FeedFetcher
from bot.ingest.poller import FeedPoller
from bot.model import DigestOptions
from bot.ops.backup import BackupError, backup, restore
from bot.ops.database import DatabaseProblem, open_repository
from bot.ops.health import check
from bot.ops.runtime import read_status
from bot.ops.status import overview
from bot.render.discord import render_discord
from bot.render.telegram import render_telegram
from bot.render.text import render_text
from bot.reply import Heading, Reply
from storage.migrate import UnusableDatabase
from storage.sqlite import SQLiteRepository

NO_TOKEN = ("newsdigest: no platform token configured (set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN); "
            "to try the bot without one, run: newsdigest console")


def sample_folder() -> Path:
    return Path(str(resources.files("bot") / "samples"))


@asynccontextmanager
async def open_core(settings: Settings) -> AsyncIterator[Core]:
    """The core on the configured database, with feed polling; both closed on the way out."""
    repo = await SQLiteRepository.open(settings.database_path)
    try:
        async with FeedFetcher(allow_private=settings.allow_private_sources) as fetcher:
            yield Core(repo, settings, COMMANDS, poller=FeedPoller(repo, fetcher, utc_now))
    finally:
        await repo.close()


async def demo(settings: Settings) -> int:
    """Load the bundled samples into a throwaway database and show one digest three ways."""
    with tempfile.TemporaryDirectory(prefix="newsdigest-demo-") as folder:
        repo = await SQLiteRepository.open(Path(folder) / "demo.db")
        try:
            stored = await import_paths(repo, [sample_folder()])
            digest = await build_digest(repo, None, DigestOptions(), after_id=0)
        finally:
            await repo.close()
    reply = Reply((Heading("Today's digest"), *item_lines(digest.articles, digest.sources)))
    print(f"Loaded {stored.new} sample summaries into a throwaway database.\n")
    print("=== Console ===\n")
    print("\n\n".join(render_text(reply)))
    print("\n=== Telegram (HTML parse mode) ===\n")
    for number, message in enumerate(render_telegram(reply), 1):
        print(f"--- message {number}, {len(message)} characters ---\n{message}\n")
    print("=== Discord ===\n")
    for number, message in enumerate(render_discord(reply), 1):
        print(f"--- message {number}: content {message.content!r}, {len(message.embeds)} embeds ---")
        for embed in message.embeds:
            print(f"[{embed['title']}]({embed.get('url', '')})\n  {embed['description']}\n  {embed['footer']['text']}")
        print()
    print("Try it yourself: newsdigest import PATH..., then newsdigest console")
    return 0


async def console(settings: Settings, chat: str) -> int:
    from adapters.console import ConsoleAdapter

    async with open_core(settings) as core:
        await ConsoleAdapter(core, chat_id=chat).run()
    return 0


async def import_files(settings: Settings, paths: Sequence[Path]) -> int:
    repo = await SQLiteRepository.open(settings.database_path)
    try:
        result = await import_paths(repo, paths, progress=sys.stderr.isatty())
    except SummaryImportError as exc:
        print(f"newsdigest import: {exc} (nothing was imported)", file=sys.stderr)
        return 1
    finally:
        await repo.close()
    print(f"imported {result.new} new, {result.updated} updated, {result.unchanged} unchanged")
    return 0


async def sources(settings: Settings, args: argparse.Namespace) -> int:
    async with open_core(settings) as core:
        return await cli_sources.run(core, args)


async def run(settings: Settings) -> int:
    if settings.telegram_bot_token is None and settings.discord_bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from adapters.runner import run_bot

    return await run_bot(settings)


async def health(settings: Settings, live: bool) -> int:
    report = await check(Path(settings.database_path), settings.status_path, utc_now(), live)
    print(report.text())
    return 0 if report.healthy else 1


async def status(settings: Settings) -> int:
    try:
        async with open_repository(Path(settings.database_path)) as repo:
            reply = await overview(repo, read_status(settings.status_path), utc_now())
    except DatabaseProblem as exc:
        print(f"newsdigest status: {exc}", file=sys.stderr)
        return 1
    print("\n".join(render_text(reply)))
    return 0


def backup_database(settings: Settings, target: str) -> int:
    database = Path(settings.database_path)
    if target.endswith("/"):
        Path(target).mkdir(parents=True, exist_ok=True)
    try:
        copy = backup(database, Path(target))
    except BackupError as exc:
        print(f"newsdigest backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {database} to {copy.path}: {copy.size} bytes, schema {copy.schema}, integrity ok")
    return 0


def restore_database(settings: Settings, source: Path) -> int:
    database = Path(settings.database_path)
    try:
        kept = restore(source, database)
    except BackupError as exc:
        print(f"newsdigest restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {database} from {source}" + (f"; the replaced database is kept as {kept.path}" if kept else ""))
    print("start the bot again; it migrates an older schema as it starts")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="newsdigest", description="Compact news digests for Telegram and Discord.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="show a digest from bundled sample data (no tokens, no network)")
    console_parser = commands.add_parser("console", help="use the bot's commands in this terminal")
    console_parser.add_argument("--chat", default="local", help="the console chat id (default: local)")
    import_parser = commands.add_parser("import", help="store summaries from .txt, .html, .json or .jsonl files")
    import_parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    commands.add_parser("run", help="run the Telegram and/or Discord bot")
    health_parser = commands.add_parser("health", help="exit 0 if the database is usable; show the bot's state")
    health_parser.add_argument("--live", action="store_true",
                               help="also require a running bot with every adapter connected (for HEALTHCHECK)")
    commands.add_parser("status", help="sources, subscriptions, deliveries and failures, for operators")
    backup_parser = commands.add_parser("backup", help="copy the database consistently, even while the bot runs")
    backup_parser.add_argument("path", metavar="PATH", help="a new file, or a folder (PATH/) for a dated one")
    restore_parser = commands.add_parser("restore", help="replace the database with a backup (stop the bot first)")
    restore_parser.add_argument("path", type=Path, metavar="BACKUP")
    cli_sources.add_parsers(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"newsdigest: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format)
    try:
        return dispatch(args, settings)
    except UnusableDatabase as exc:
        print(f"newsdigest: {exc}", file=sys.stderr)
        return 2


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    match args.command:
        case "demo":
            return asyncio.run(demo(settings))
        case "console":
            return asyncio.run(console(settings, args.chat))
        case "import":
            return asyncio.run(import_files(settings, args.paths))
        case "run":
            return asyncio.run(run(settings))
        case "health":
            return asyncio.run(health(settings, args.live))
        case "status":
            return asyncio.run(status(settings))
        case "backup":
            return backup_database(settings, args.path)
        case "restore":
            return restore_database(settings, args.path)
        case "sources" | "ingest":
            return asyncio.run(sources(settings, args))
    return 2
