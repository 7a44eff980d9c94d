"""A dispatcher run in its own process, for the kill -9 test in test_crash_recovery.py.

Usage: python -m tests.crash_worker DB OUT CLOCK_ISO HANG_AFTER CONCURRENCY

Sends are "accepted" by appending a line to OUT. After HANG_AFTER accepted sends every further
send hangs before it is accepted; once CONCURRENCY sends hang (so every earlier one has been
recorded in the ledger), the worker writes OUT.hung and waits to be killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from bot.delivery import DeliveryPolicy, DigestDispatcher
from bot.model import ChatRef
from bot.outbox import Outcome, SendResult
from bot.reply import Reply
from storage.sqlite import SQLiteRepository


class Hanging:
    platform = "console"

    def __init__(self, out: Path, hang_after: int, concurrency: int) -> None:
        self.out, self.hang_after, self.concurrency = out, hang_after, concurrency
        self.accepted = self.hanging = 0

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        if self.accepted >= self.hang_after:
            self.hanging += 1
            if self.hanging == self.concurrency:
                Path(f"{self.out}.hung").write_text("hung")
            await asyncio.Event().wait()
        self.accepted += 1
        with self.out.open("a") as out:
            out.write(f"{chat.chat_id}\n")
            out.flush()
            os.fsync(out.fileno())
        return SendResult(Outcome.SENT, (str(self.accepted),))


async def main(db: str, out: str, clock: str, hang_after: str, concurrency: str) -> None:
    repo = await SQLiteRepository.open(db)
    now = datetime.fromisoformat(clock)
    messenger = Hanging(Path(out), int(hang_after), int(concurrency))
    policy = DeliveryPolicy(concurrency=int(concurrency))
    await DigestDispatcher(repo, {"console": messenger}, lambda: now, policy).tick()
    await repo.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
