"""Posting a reply to a channel, thread or forum, and folding Discord's answers into SendResults.

discord.py waits out 429s on its own (per-route buckets, `retry_after`, the global flag) but
learns of the global limit only by hitting it, so every request here first takes a slot from the
adapter's RateBudget, which spaces a fan-out evenly under Discord's ~50 requests/s. 403 and 404
mean the bot may not or cannot post there: the chat is reported gone after one attempt, because
repeated 403s earn an IP ban. A forum's post lost on the way is not the forum: the digest opens a
new post instead.
Server errors and network trouble get a few spaced retries (none for the 5xx codes discord.py
already retried five times), then "retry later".
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from adapters.discord.messages import rendered, send_kwargs
from adapters.discord.refs import target_id
from bot.model import ChatRef
from bot.outbox import Outcome, SendResult
from bot.pacing import RateBudget
from bot.render.discord import DiscordMessage
from bot.reply import Heading, Reply

log = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 3
DEFAULT_RETRY_DELAY = 1.0  # seconds; doubled after each failed attempt
FORUM_POST_TITLE = 100  # Discord's limit on a thread name
TRANSIENT = (discord.DiscordServerError, aiohttp.ClientError, OSError, asyncio.TimeoutError)
RETRIED_BY_DISCORD_PY = {500, 502, 504, 524}  # it already tried five times, over about 16 seconds

Destination = discord.abc.Messageable | discord.ForumChannel


class Undeliverable(Exception):
    """Posting stopped: `outcome` says whether to retry later or give the chat up; `not_found`,
    that the channel or post is not there any more (404) rather than closed to the bot (403)."""

    def __init__(self, outcome: Outcome, reason: str, not_found: bool = False) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.not_found = not_found


def reason_of(exc: discord.HTTPException) -> str:
    """Discord's own words and code, for the ledger and the operator."""
    return f"{exc.status} {exc.text or exc.response.reason} (code {exc.code})"


def post_title(reply: Reply) -> str:
    """A forum post's title: the reply's first heading."""
    heading = next((part.text for part in reply.parts if isinstance(part, Heading)), "News digest")
    return heading if len(heading) <= FORUM_POST_TITLE else heading[: FORUM_POST_TITLE - 1] + "…"


class ChannelPoster:
    """The sending half of the Discord Messenger."""

    def __init__(self, client: discord.Client, budget: RateBudget, attempts: int = DEFAULT_ATTEMPTS,
                 retry_delay: float = DEFAULT_RETRY_DELAY) -> None:
        self.client = client
        self.budget = budget
        self.attempts = attempts
        self.retry_delay = retry_delay

    async def send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...] = ()) -> SendResult:
        return await self._send(chat, reply, sent, may_reopen=True)

    async def _send(self, chat: ChatRef, reply: Reply, sent: tuple[str, ...], may_reopen: bool) -> SendResult:
        """A forum's digest whose post was deleted (404) goes out whole in a new post, once per
        attempt (a second loss is retried later): the post took its messages with it, so nothing
        shows twice. A post the bot may not write in (403) ends the attempt: a new post would
        repeat what the old one shows, and would meet the same 403."""
        ids = list(sent)
        forum = self._forum(chat)
        destination = self._destination(chat, forum, sent)
        for message in rendered(reply)[len(sent):]:
            try:
                posted = await self._post(chat, destination, message, reply)
            except Undeliverable as exc:
                if exc.not_found and forum is not None and ids:  # the post, not the forum
                    if not may_reopen:
                        return SendResult(Outcome.RETRY_LATER, tuple(ids), exc.reason)
                    log.info("the post %s of forum %s is gone; the digest opens a new one", ids[0], chat.chat_id)
                    return await self._send(chat, reply, (), may_reopen=False)
                return SendResult(exc.outcome, tuple(ids), exc.reason)
            ids.append(str(posted.id))
            destination = posted.channel  # after a forum's first message: the post it opened
        return SendResult(Outcome.SENT, tuple(ids))

    def _forum(self, chat: ChatRef) -> discord.ForumChannel | None:
        channel = self.client.get_channel(int(chat.chat_id)) if chat.thread_id is None else None
        return channel if isinstance(channel, discord.ForumChannel) else None

    def _destination(self, chat: ChatRef, forum: discord.ForumChannel | None, sent: tuple[str, ...]) -> Destination:
        """A forum without a thread gets a new post per reply, or goes on in the post its first
        message opened (a post has its first message's id); anything else is posted to by id."""
        if forum is not None:
            return self.client.get_partial_messageable(int(sent[0])) if sent else forum
        return self.client.get_partial_messageable(target_id(chat))

    async def _post(self, chat: ChatRef, destination: Destination, message: DiscordMessage,
                    reply: Reply) -> discord.Message:
        problem = ""
        for attempt in range(1, self.attempts + 1):
            await self.budget.wait(str(target_id(chat)))
            try:
                if isinstance(destination, discord.ForumChannel):
                    created = await destination.create_thread(name=post_title(reply), **send_kwargs(message, reply))
                    return created.message
                return await destination.send(**send_kwargs(message, reply))
            except discord.NotFound as exc:
                raise Undeliverable(Outcome.GONE, reason_of(exc), not_found=True) from None
            except discord.Forbidden as exc:
                raise Undeliverable(Outcome.GONE, reason_of(exc)) from None
            except discord.RateLimited as exc:  # longer than the client is configured to wait
                raise Undeliverable(Outcome.RETRY_LATER, f"rate limited for {exc.retry_after:.0f} s") from None
            except TRANSIENT as exc:
                if isinstance(exc, discord.HTTPException) and exc.status in RETRIED_BY_DISCORD_PY:
                    raise Undeliverable(Outcome.RETRY_LATER, reason_of(exc)) from None
                problem = reason_of(exc) if isinstance(exc, discord.HTTPException) else repr(exc)
            except discord.HTTPException as exc:
                if exc.status != 429:  # a request Discord refuses as malformed: retrying cannot help
                    log.error("Discord rejected a post to %s: %s", chat.scope, reason_of(exc))
                    raise Undeliverable(Outcome.RETRY_LATER, reason_of(exc)) from None
                problem = reason_of(exc)  # still limited after discord.py's own retries
            log.warning("posting to %s failed (attempt %d of %d): %s", chat.scope, attempt, self.attempts, problem)
            if attempt < self.attempts:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
        raise Undeliverable(Outcome.RETRY_LATER, problem)
