"""The contract between the core and an adapter for sending: what was asked, what happened.

Platform errors are folded into three outcomes the core understands: sent, retry later, gone for
good. Only the adapter knows how its platform says them; whoever asked for the send records them
(the delivery engine for digests, the adapter for its replies to commands).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from bot.model import ChatRef
from bot.reply import Reply


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY_LATER = "retry later"  # rate limits or network trouble outlived the adapter's own retries
    GONE = "gone"  # kicked, blocked, missing permissions, unknown chat: stop sending there


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    message_ids: tuple[str, ...] = ()  # every message of the reply delivered so far, in order
    reason: str = ""  # why, for the ledger and the operator; never a token
    moved_to: ChatRef | None = None  # the chat now lives here (Telegram group -> supergroup)
    gone: ChatRef | None = None  # GONE: where the bot may post no more (the chat or its topic); unset: the chat sent to


class Messenger(Protocol):
    """One platform's sending side, as an adapter provides it."""

    platform: str

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        """Render and send `reply` to `chat` within the platform's limits and rate budget.

        `sent` are the ids of the reply's first messages, delivered by an earlier attempt that
        stopped part way: only the rest is sent, so a retried digest repeats none of its messages.
        """
        ...
