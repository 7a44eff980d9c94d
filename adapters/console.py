"""The console adapter: the bot in a terminal, and the adapter tests drive the whole bot through.

It needs no token and no network. Lines typed (or piped) are commands; replies are printed with
the plain-text renderer. As a Messenger it prints scheduled digests the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from typing import TextIO

from bot.commands import Request
from bot.core import Core
from bot.model import ChatRef, UserRef
from bot.outbox import Outcome, SendResult
from bot.pacing import RateBudget
from bot.render.text import render_text
from bot.reply import Reply

PROMPT = "newsdigest> "


class ConsoleAccess:
    """Whoever sits at the console runs the bot: admin of every chat it names."""

    async def is_chat_admin(self) -> bool:
        return True

    async def resolve_chat(self, ref: str, to_post: bool = True) -> ChatRef:
        return ChatRef("console", ref.lstrip("@#") or "local")


class ConsoleAdapter:
    platform = "console"

    def __init__(self, core: Core, out: TextIO = sys.stdout, chat_id: str = "local",
                 budget: RateBudget | None = None) -> None:
        self.core = core
        self.out = out
        self.budget = budget
        self.request = Request(ChatRef("console", chat_id), UserRef("console", "operator"), ConsoleAccess())
        self._ids = itertools.count(1)
        self.sent: list[tuple[float, ChatRef, str]] = []  # (budget time, chat, text): what tests inspect

    async def ask(self, line: str) -> list[str]:
        """One line in, the rendered reply messages out (empty for a line that is no command)."""
        line = line.strip()
        if not line:
            return []
        if not line.startswith("/"):
            line = "/" + line
        reply = await self.core.handle_text(self.request, line)
        return render_text(reply) if reply else []

    async def run(self, source: TextIO = sys.stdin) -> None:
        """Answer lines until end of input; a prompt only when a person is typing."""
        interactive = source.isatty()
        if interactive:
            self.out.write("Type /help for the commands, Ctrl-D to leave.\n")
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                self.out.write(PROMPT)
                self.out.flush()
            line = await loop.run_in_executor(None, source.readline)
            if not line:
                break
            for message in await self.ask(line):
                self.out.write(message + "\n\n")
            self.out.flush()

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        """Print a scheduled digest, paced by the rate budget when one is set."""
        ids = list(sent)
        for message in render_text(reply)[len(sent):]:
            at = await self.budget.wait(chat.scope) if self.budget else 0.0
            self.out.write(f"--- to {chat.scope} ---\n{message}\n\n")
            self.sent.append((at, chat, message))
            ids.append(str(next(self._ids)))
        self.out.flush()
        return SendResult(Outcome.SENT, tuple(ids))
