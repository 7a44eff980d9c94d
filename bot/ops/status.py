"""The operator's overview, one Reply for `/status` in chat and `newsdigest status` in a terminal.

What an operator asks first when something looks wrong: is the bot up and connected, which
sources fail, how many chats get digests, what went out last, what is due next, and what failed
in the last day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.model import DeliveryStatus, Source
from bot.ops.runtime import RuntimeStatus, describe, when
from bot.reply import Heading, Notice, Part, Reply, SourceLine
from storage.repository import Repository

FAILURE_WINDOW = timedelta(hours=24)


def source_state(source: Source) -> str:
    where = f" (owned by {source.scope})" if source.scope else ""
    if source.health:
        return source.health + where
    if source.feed_url is None:
        return "no feed: imported summaries only" + where
    if source.last_polled_at is None:
        return "feed not polled yet" + where
    return f"ok, polled {when(source.last_polled_at)}" + where


async def source_parts(repo: Repository, limit: int | None) -> list[Part]:
    """Every source with its health; troubled ones first, so a cut list still shows them."""
    sources = sorted(await repo.all_sources(), key=lambda s: (not s.health, s.id))
    troubled = sum(1 for s in sources if s.health)
    parts: list[Part] = [Heading(f"Sources: {len(sources)}, {troubled} with problems")]
    shown = sources if limit is None else sources[:limit]
    parts += [SourceLine(s.id, s.name, s.bias, source_state(s)) for s in shown]
    if len(shown) < len(sources):
        parts.append(Notice(f"… and {len(sources) - len(shown)} more (`newsdigest status` lists every one)"))
    return parts


async def delivery_parts(repo: Repository, now: datetime, limit: int) -> list[Part]:
    counts = await repo.subscription_counts()
    parts: list[Part] = [Heading("Subscriptions")]
    parts += [Notice(f"{platform}: {enabled} active, {disabled} disabled")
              for platform, (enabled, disabled) in counts.items()] or [Notice("none yet")]
    parts.append(Heading("Deliveries"))
    last = [Notice(f"last: {entry.chat.scope}, slot {when(entry.delivery.slot_at)}, sent {when(entry.updated_at)}")
            for entry in await repo.ledger_entries(DeliveryStatus.SENT, None, limit)]
    upcoming = [Notice(f"next: {s.chat.scope} at {when(s.next_due_at)}")
                for s in await repo.upcoming_subscriptions(limit) if s.next_due_at is not None]
    parts += [*last, *upcoming] or [Notice("none sent, none scheduled")]
    since = now - FAILURE_WINDOW
    ledger = await repo.ledger_counts(since)
    parts.append(Heading("Last 24 hours"))
    parts.append(Notice(", ".join(f"{ledger.get(status, 0)} {status.value}" for status in DeliveryStatus)))
    for entry in await repo.ledger_entries(DeliveryStatus.FAILED, since, limit):
        parts.append(Notice(f"failed: {entry.chat.scope}, slot {when(entry.delivery.slot_at)}, "
                            f"{when(entry.updated_at)}: {entry.delivery.error or 'no reason recorded'}"))
    return parts


async def overview(repo: Repository, runtime: RuntimeStatus | None, now: datetime, *, limit: int = 5,
                   source_limit: int | None = None) -> Reply:
    """`limit` caps each list of deliveries; `source_limit` the sources (None: all of them)."""
    parts: list[Part] = [Heading("newsdigest status")]
    if runtime is None:
        parts.append(Notice("bot: no status file (`newsdigest run` writes it)"))
    else:
        parts += [Notice(line.strip()) for line in describe(runtime, now)]
        if runtime.stale(now) and runtime.state != "stopped":
            parts.append(Notice(f"(no heartbeat since {when(runtime.updated_at)}: is `newsdigest run` up?)"))
    parts += await source_parts(repo, source_limit)
    parts += await delivery_parts(repo, now, limit)
    return Reply(tuple(parts), ephemeral=True)
