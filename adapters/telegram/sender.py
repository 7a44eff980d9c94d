"""Outgoing messages: a Reply rendered to Telegram HTML, sent, and the outcome told in core terms.

Pacing and 429 retries happen below, in the rate limiter every bot request passes through. Here:

- ChatMigrated (group became a supergroup): the core follows the chat, the message goes to the
  new id and the result carries `moved_to`;
- Forbidden (kicked, blocked) and the BadRequests that mean the same ("chat not found", no right
  to post): GONE for the whole chat, in `gone`; no retry. A forum topic that was deleted or
  closed is gone on its own: the rest of the chat is not;
- network errors and timeouts: retried with exponential backoff, then RETRY_LATER. A timed-out
  message may in fact have arrived, so a retry can duplicate it; for a digest a duplicate is the
  lesser harm than a loss;
- any other BadRequest (a message Telegram will not take as it is): logged, RETRY_LATER.

A multi-message reply stops at the first failure; `message_ids` lists what was delivered, and a
retry passes them back as `sent` to go on from there.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from adapters.telegram.access import api_chat_id
from adapters.telegram.clock import Clock
from adapters.telegram.rate_limit import retry_after_seconds
from adapters.telegram.settings import RateSettings
from bot.core import Core
from bot.model import ChatRef
from bot.outbox import Outcome, SendResult
from bot.render.telegram import render_telegram
from bot.reply import Reply

log = logging.getLogger(__name__)

MAX_BACKOFF = 8.0
TOPIC_GONE = ("message thread not found", "topic_deleted", "topic_closed")  # BadRequests about one topic
CHAT_GONE = ("chat not found", "not enough rights", "have no rights", "need administrator rights",
             "chat_write_forbidden", "bot is not a member")  # BadRequests about the whole chat


def gone_from(chat: ChatRef, error: TelegramError) -> ChatRef | None:
    """Where the bot can no longer post, if this error says so: the topic or the whole chat."""
    message = error.message.lower()
    if isinstance(error, BadRequest) and chat.thread_id and any(p in message for p in TOPIC_GONE):
        return chat
    if isinstance(error, Forbidden) or (isinstance(error, BadRequest) and any(p in message for p in CHAT_GONE)):
        return replace(chat, thread_id=None)
    return None


class TelegramSender:
    def __init__(self, bot: Bot, core: Core, rates: RateSettings, clock: Clock) -> None:
        self._bot = bot
        self._core = core
        self._rates = rates
        self._clock = clock

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        messages = render_telegram(reply)
        target = chat
        ids = list(sent)
        for text in messages[len(sent):]:
            while True:
                try:
                    ids.append(await self._post(target, text, reply))
                    break
                except ChatMigrated as exc:
                    if target != chat:  # moved twice within one send: leave it to the next attempt
                        return await self._failed(chat, target, exc, ids, len(messages))
                    target = replace(chat, chat_id=str(exc.new_chat_id))
                    log.info("%s became %s; following it", chat.scope, target.scope)
                    await self._core.chat_moved(chat, target.chat_id)
                except TelegramError as exc:
                    return await self._failed(chat, target, exc, ids, len(messages))
        return SendResult(Outcome.SENT, tuple(ids), moved_to=target if target != chat else None)

    async def _post(self, chat: ChatRef, text: str, reply: Reply) -> str:
        """One message; network trouble is retried here, everything else raised."""
        retries = 0
        while True:
            try:
                message = await self._bot.send_message(
                    chat_id=api_chat_id(chat.chat_id),
                    text=text,
                    parse_mode=ParseMode.HTML,
                    message_thread_id=int(chat.thread_id) if chat.thread_id else None,
                    disable_notification=reply.silent,
                    link_preview_options=LinkPreviewOptions(is_disabled=not reply.previews),
                )
                return str(message.message_id)
            except BadRequest:  # a NetworkError subclass, but retrying will not change the answer
                raise
            except NetworkError as exc:  # TimedOut included
                if retries >= self._rates.max_retries:
                    raise
                delay = min(self._rates.backoff * 2 ** retries, MAX_BACKOFF)
                retries += 1
                log.info("network trouble sending to %s (%s); retry %d in %.1f s", chat.scope, exc.message,
                         retries, delay)
                await self._clock.sleep(delay)

    async def _failed(self, chat: ChatRef, target: ChatRef, error: TelegramError, ids: list[str],
                      total: int) -> SendResult:
        moved_to = target if target != chat else None
        progress = f" (after {len(ids)} of {total} messages)" if ids else ""
        gone = gone_from(target, error)
        if gone is not None:
            return SendResult(Outcome.GONE, tuple(ids), error.message + progress, moved_to, gone)
        if isinstance(error, RetryAfter):
            reason = f"flood control: retry in {retry_after_seconds(error):.0f} s"
            log.warning("sending to %s postponed: %s", target.scope, reason)
        elif isinstance(error, BadRequest):
            reason = f"rejected: {error.message}"
            log.error("Telegram rejected a message to %s: %s", target.scope, error.message)
        elif isinstance(error, NetworkError):
            reason = f"network: {error.message}"
            log.warning("sending to %s failed after %d retries: %s", target.scope, self._rates.max_retries,
                        error.message)
        else:
            reason = f"{type(error).__name__}: {error.message}"
            log.error("sending to %s failed: %s", target.scope, reason)
        return SendResult(Outcome.RETRY_LATER, tuple(ids), reason + progress, moved_to)
