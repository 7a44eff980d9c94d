"""`newsdigest sources ...` and `newsdigest ingest`: the operator's side of feed sources."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tqdm import tqdm

from bot.core import Core
from bot.ingest.feeds import skipped_note
from bot.ingest.opml import FeedOutline, OpmlError, export_opml, parse_opml
from bot.ingest.poller import PollOutcome, ProbeError
from bot.model import BiasRating, Source
from storage.repository import DuplicateSource


def _minutes(text: str) -> int:
    """A poll interval: whole minutes, at least one (0 would poll the feed without pause)."""
    try:
        minutes = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of minutes: {text!r}") from None
    if minutes < 1:
        raise argparse.ArgumentTypeError(f"at least 1 minute, not {minutes}")
    return minutes


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sources = commands.add_parser("sources", help="list, add, remove, check, import or export feed sources")
    actions = sources.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every source with its rating, feed and health")
    add = actions.add_parser("add", help="check a feed and add it as a source for every chat")
    add.add_argument("url")
    add.add_argument("--bias", default="unrated", help="AllSides rating (left, lean left, center, ...)")
    add.add_argument("--every", type=_minutes, default=15, metavar="MINUTES", help="poll interval (default 15)")
    remove = actions.add_parser("remove", help="remove a source and its summaries")
    remove.add_argument("source", help="id or name")
    enable = actions.add_parser("enable", help="poll a disabled source again (its failure count starts over)")
    enable.add_argument("source", help="id or name")
    check = actions.add_parser("check", help="fetch feeds now and say whether they work (stores nothing)")
    check.add_argument("sources", nargs="*", help="ids or names (default: every feed)")
    opml_in = actions.add_parser("import-opml", help="add every feed of an OPML file (polled on the next run)")
    opml_in.add_argument("file", type=Path)
    opml_out = actions.add_parser("export-opml", help="write the feeds as OPML")
    opml_out.add_argument("file", type=Path, nargs="?", help="default: standard output")
    ingest = commands.add_parser("ingest", help="poll feed sources")
    ingest.add_argument("--once", action="store_true", required=True, help="poll every due source now, then exit")
    ingest.add_argument("--all", action="store_true", help="poll every enabled source, due or not")


def _line(source: Source) -> str:
    health = f"  [{source.health}]" if source.health else ""
    owner = f"  (chat {source.scope})" if source.scope else ""
    return f"{source.id:>4}  {source.name} · {source.bias.label}  {source.feed_url or '(no feed)'}{owner}{health}"


async def run(core: Core, args: argparse.Namespace) -> int:
    repo, poller = core.repo, core.poller
    assert poller is not None
    match args.command, getattr(args, "action", None):
        case "sources", "list":
            for source in await repo.all_sources():
                print(_line(source))
        case "sources", "add":
            try:
                bias = BiasRating.parse(args.bias)
                source, outcome = await poller.add(args.url, bias, None, poll_interval=args.every * 60)
            except (ValueError, ProbeError, DuplicateSource) as exc:
                print(f"newsdigest sources add: {exc}", file=sys.stderr)
                return 1
            print(f"added #{source.id} {source.name} ({source.bias.label}): {outcome.new} items"
                  f"{skipped_note(outcome.skipped)}")
        case "sources", "remove" | "enable":
            source = await repo.find_source(args.source, None)
            if source is None:
                print(f"newsdigest sources {args.action}: no source {args.source!r}", file=sys.stderr)
                return 1
            if args.action == "remove":
                filters = await repo.remove_source(source.id)
                print(f"removed #{source.id} {source.name}" + (f"; taken out of {filters} digest source filters"
                                                               if filters else ""))
            else:
                await repo.set_source_enabled(source.id, True)
                print(f"enabled #{source.id} {source.name}; it is polled on the next run")
        case "sources", "check":
            return await _check(core, args.sources)
        case "sources", "import-opml":
            return await _import_opml(core, args.file)
        case "sources", "export-opml":
            feeds = [FeedOutline(s.name, s.feed_url, s.website) for s in await repo.all_sources() if s.feed_url]
            text = export_opml(feeds)
            if args.file:
                try:
                    args.file.write_text(text, encoding="utf-8")
                except OSError as exc:
                    print(f"newsdigest sources export-opml: {args.file}: {exc.strerror or exc}", file=sys.stderr)
                    return 1
                print(f"wrote {len(feeds)} feeds to {args.file}")
            else:
                print(text)
        case "ingest", _:
            return await _ingest(core, args.all)
    return 0


async def _check(core: Core, refs: list[str]) -> int:
    assert core.poller is not None
    sources = [s for s in await core.repo.all_sources() if s.feed_url]
    if refs:
        wanted = {ref.lower().removeprefix("#") for ref in refs}
        sources = [s for s in sources if str(s.id) in wanted or s.name.lower() in wanted]
        unknown = wanted - {str(s.id) for s in sources} - {s.name.lower() for s in sources}
        if unknown:
            print(f"newsdigest sources check: no feed source {', '.join(sorted(unknown))}", file=sys.stderr)
            return 1
    failed = 0
    for source in sources:
        try:
            parsed = await core.poller.probe(source.feed_url or "", source.outlet)
        except ProbeError as exc:
            failed += 1
            print(f"#{source.id} {source.name}: error ({exc})")
        else:
            print(f"#{source.id} {source.name}: ok ({parsed.title!r}, {len(parsed.entries)} items"
                  f"{skipped_note(parsed.skipped)})")
    return 1 if failed else 0


async def _import_opml(core: Core, path: Path) -> int:
    try:
        outlines = parse_opml(path.read_bytes())
    except (OSError, OpmlError) as exc:
        print(f"newsdigest sources import-opml: {path}: {exc}", file=sys.stderr)
        return 1
    added = skipped = 0
    for outline in outlines:
        try:
            await core.repo.add_source(outline.title or outline.xml_url, feed_url=outline.xml_url,
                                       website=outline.html_url)
            added += 1
        except DuplicateSource:
            skipped += 1
    print(f"added {added} feeds, skipped {skipped} already known")
    return 0


async def _ingest(core: Core, everything: bool) -> int:
    assert core.poller is not None
    if everything:
        due = [s for s in await core.repo.all_sources() if s.feed_url and s.enabled]
    else:
        due = await core.repo.due_feeds(core.clock(), 10_000)
    outcomes: list[PollOutcome] = []
    with tqdm(total=len(due), unit="source", disable=not sys.stderr.isatty()) as bar:
        async def one(source: Source) -> None:
            outcome = await core.poller.poll(source)  # type: ignore[union-attr]
            outcomes.append(outcome)
            bar.update()
            bar.write(outcome.line())
        await asyncio.gather(*(one(s) for s in due))
    if not due:
        print("no source is due")
    return 1 if any(o.status in ("error", "disabled") for o in outcomes) else 0
