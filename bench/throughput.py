"""Core throughput with the platform taken away: digests selected, rendered, ledgered and sent
per second, to a messenger that renders for its platform and answers at once.

This is the ceiling the core puts on a fan-out, whatever the platform's caps. Baseline in the
same run: the same fan-out with the per-tick digest sharing switched off (every chat selects its
own digest), to show what sharing the selection buys.

    python -m bench.throughput [--chats N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Figure, add_due_subscriptions, show
from bot.delivery import DigestDispatcher
from bot.model import ChatRef, Subscription
from bot.outbox import Outcome, SendResult
from bot.render.discord import render_discord
from bot.render.telegram import render_telegram
from bot.reply import Reply
from storage.sqlite import SQLiteRepository
from tests.factories import OUTLETS, draft


class Instant:
    """A messenger with no network: renders as its platform would and reports success."""

    def __init__(self, platform: str, render: Callable[[Reply], list[Any]]) -> None:
        self.platform = platform
        self.render = render
        self.messages = 0

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        rendered = self.render(reply)[len(sent):]
        self.messages += len(rendered)
        return SendResult(Outcome.SENT, (*sent, *(str(i) for i in range(len(rendered)))))


class Unshared(DigestDispatcher):
    """The baseline: a fresh selection for every chat."""

    async def _digest_for(self, subscription: Subscription):  # type: ignore[no-untyped-def]
        self._digests.clear()
        return await super()._digest_for(subscription)


async def fan_out(platform: str, render: Callable[[Reply], list[Any]], chats: int,
                  dispatcher_type: type[DigestDispatcher] = DigestDispatcher) -> float:
    with tempfile.TemporaryDirectory(prefix="newsdigest-bench-") as tmp:
        db = Path(tmp) / "throughput.db"
        repo = await SQLiteRepository.open(db)
        await repo.store_articles([draft(n, name) for n, name in enumerate(OUTLETS, 1)])
        await repo.close()
        add_due_subscriptions(db, platform, chats)
        repo = await SQLiteRepository.open(db)
        messenger = Instant(platform, render)
        dispatcher = dispatcher_type(repo, {platform: messenger}, lambda: datetime.now(UTC))
        start = time.perf_counter()
        report = await dispatcher.tick()
        elapsed = time.perf_counter() - start
        await repo.close()
    assert report.sent == chats, report
    return chats / elapsed


async def main(chats: int) -> bool:
    telegram = await fan_out("telegram", render_telegram, chats)
    discord = await fan_out("discord", render_discord, chats)
    baseline = await fan_out("telegram", render_telegram, chats, Unshared)
    figures = [
        Figure("Telegram digests/s", telegram, "/s", ">= 1000", telegram >= 1000),
        Figure("Discord digests/s", discord, "/s", ">= 1000", discord >= 1000),
        Figure("baseline: Telegram, selection per chat", baseline, "/s"),
        Figure("shared selection / per-chat selection", telegram / baseline, "x"),
    ]
    return show(f"Core throughput, {chats:,} chats due at once, zero-latency messenger", figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=5000)
    args = parser.parse_args()
    sys.exit(0 if asyncio.run(main(args.chats)) else 1)
