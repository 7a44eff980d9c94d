"""DiscordAdapter.send: channels, threads and forums, rate limits, and errors folded into outcomes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from fake_discord import (BOT_ROLE, FORUM, GENERAL, MISSING_ACCESS, MISSING_PERMISSIONS, NEWS, RATE_LIMITED,
                          SEND_IN_THREADS, SERVER_ERROR, THREAD, UNKNOWN_CHANNEL, FakeDiscord)

from adapters.discord import DiscordAdapter
from bot.core import Core
from bot.model import BiasRating, ChatRef
from bot.outbox import Outcome
from bot.pacing import RateBudget
from bot.reply import Heading, ItemLine, Notice, Reply

StartBot = Callable[..., Awaitable[DiscordAdapter]]

CHANNEL = ChatRef("discord", str(GENERAL))
IN_THREAD = ChatRef("discord", str(GENERAL), str(THREAD))
MESSAGES = f"/channels/{GENERAL}/messages"


def digest(items: int = 2, title: str = "Story") -> Reply:
    lines = [ItemLine(n, f"{title} {n}", f"https://example.org/{n}", "Ledger Wire", BiasRating.CENTER, "Lead.")
             for n in range(1, items + 1)]
    return Reply((Heading("Morning digest"), *lines))


async def test_send_to_a_channel_posts_every_message_in_order_without_mentions(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    result = await bot.send(CHANNEL, digest(items=12, title="@everyone story"))
    assert result.outcome is Outcome.SENT
    posted = fake.posted[GENERAL]
    assert len(result.message_ids) == len(posted) == 2  # ten embeds per message
    assert [e["title"] for m in posted for e in m["embeds"]] == [f"@\u200beveryone story {n}" for n in range(1, 13)]
    assert posted[0]["content"] == "**Morning digest**"
    assert all(m["allowed_mentions"] == {"parse": []} for m in posted)


async def test_send_to_a_thread_posts_in_the_thread(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    result = await bot.send(IN_THREAD, Reply((Notice("hello thread"),)))
    assert result.outcome is Outcome.SENT
    [posted] = fake.posted[THREAD]
    assert (posted["content"], posted["embeds"], posted["allowed_mentions"]) == ("hello thread", [], {"parse": []})
    assert GENERAL not in fake.posted


async def test_send_to_a_forum_opens_a_post_named_after_the_heading(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    result = await bot.send(ChatRef("discord", str(FORUM)), digest(items=12))
    assert result.outcome is Outcome.SENT
    [created] = fake.calls("POST", f"/channels/{FORUM}/threads")
    assert created.body["name"] == "Morning digest"
    assert created.body["message"]["allowed_mentions"] == {"parse": []}
    post = max(fake.posted)  # the new thread's id
    assert len(fake.posted[post]) == 2 and len(result.message_ids) == 2


async def test_a_retry_in_a_forum_goes_on_in_the_post_already_opened(bot: DiscordAdapter,
                                                                      fake: FakeDiscord) -> None:
    forum = ChatRef("discord", str(FORUM))
    reply = digest(items=12)  # two messages
    first = await bot.send(forum, reply)
    [post] = [thread for thread in fake.posted if thread not in (GENERAL, THREAD, NEWS, FORUM)]
    assert first.message_ids[0] == str(post)
    # as if the first attempt had stopped after the post's first message
    again = await bot.send(forum, reply, first.message_ids[:1])
    assert again.outcome is Outcome.SENT and again.message_ids[0] == str(post) and len(again.message_ids) == 2
    assert len(fake.calls("POST", f"/channels/{FORUM}/threads")) == 1  # no second post
    opening, second, resent = ({k: v for k, v in m.items() if k != "nonce"} for m in fake.posted[post])
    assert resent == second and resent != opening  # only the part after the first went out again


async def test_a_retry_whose_forum_post_was_deleted_opens_a_new_post(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    forum = ChatRef("discord", str(FORUM))
    result = await bot.send(forum, digest(items=12), ("987654321",))  # a post nobody can reach any more
    assert result.outcome is Outcome.SENT and len(result.message_ids) == 2
    [created] = fake.calls("POST", f"/channels/{FORUM}/threads")
    assert created.status == 200


async def test_a_forum_post_deleted_while_the_digest_goes_out_is_opened_again(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    """The post went with its first message, so the digest goes out whole in a new post, and the
    forum, which is still there, is not given up."""
    fake.delete_new_posts(1)
    result = await bot.send(ChatRef("discord", str(FORUM)), digest(items=12))
    assert result.outcome is Outcome.SENT
    assert len(fake.calls("POST", f"/channels/{FORUM}/threads")) == 2
    post = int(result.message_ids[0])
    assert post in fake.channels and len(fake.posted[post]) == 2 and len(result.message_ids) == 2


async def test_a_forum_post_deleted_again_is_retried_later(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    """One new post per attempt, and the forum, still there, is not given up."""
    fake.delete_new_posts(5)
    result = await bot.send(ChatRef("discord", str(FORUM)), digest(items=12))
    assert (result.outcome, result.reason) == (Outcome.RETRY_LATER, "404 Unknown Channel (code 10003)")
    assert len(fake.calls("POST", f"/channels/{FORUM}/threads")) == 2


async def test_a_forum_whose_posts_the_bot_may_not_write_in_gets_no_second_post(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    """The post and its first message stay, so a new post would show that message twice."""
    fake.channels[FORUM]["permission_overwrites"].append(
        {"id": str(BOT_ROLE), "type": 0, "allow": "0", "deny": str(SEND_IN_THREADS)})
    result = await bot.send(ChatRef("discord", str(FORUM)), digest(items=12))
    assert (result.outcome, result.reason) == (Outcome.GONE, "403 Missing Permissions (code 50013)")
    assert len(fake.calls("POST", f"/channels/{FORUM}/threads")) == 1 and len(result.message_ids) == 1


async def test_a_retry_whose_forum_post_the_bot_may_not_write_in_any_more_opens_no_second_post(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    forum = ChatRef("discord", str(FORUM))
    first = await bot.send(forum, digest(items=12))
    fake.channels[FORUM]["permission_overwrites"].append(
        {"id": str(BOT_ROLE), "type": 0, "allow": "0", "deny": str(SEND_IN_THREADS)})
    again = await bot.send(forum, digest(items=12), first.message_ids[:1])
    assert (again.outcome, again.reason) == (Outcome.GONE, "403 Missing Permissions (code 50013)")
    assert again.message_ids == first.message_ids[:1]
    assert len(fake.calls("POST", f"/channels/{FORUM}/threads")) == 1


async def test_a_429_is_waited_out_and_nothing_is_lost(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    fake.fail("POST", MESSAGES, 429, RATE_LIMITED)
    result = await bot.send(CHANNEL, Reply((Notice("patience"),)))
    assert result.outcome is Outcome.SENT
    limited, accepted = fake.calls("POST", MESSAGES)
    assert (limited.status, accepted.status) == (429, 200)
    assert accepted.at - limited.at >= RATE_LIMITED["retry_after"]
    assert [m["content"] for m in fake.posted[GENERAL]] == ["patience"]


@pytest.mark.parametrize("status, body, reason", [
    (403, MISSING_PERMISSIONS, "403 Missing Permissions (code 50013)"),
    (403, MISSING_ACCESS, "403 Missing Access (code 50001)"),
    (404, UNKNOWN_CHANNEL, "404 Unknown Channel (code 10003)"),
])
async def test_forbidden_or_unknown_channels_are_gone_after_one_attempt(
        bot: DiscordAdapter, fake: FakeDiscord, status: int, body: dict, reason: str) -> None:
    fake.fail("POST", MESSAGES, status, body, times=5)
    result = await bot.send(CHANNEL, digest(items=12))
    assert (result.outcome, result.reason, result.message_ids) == (Outcome.GONE, reason, ())
    assert len(fake.calls("POST", MESSAGES)) == 1


async def test_a_channel_the_bot_may_not_post_in_is_gone(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    from fake_discord import LOCKED

    locked = ChatRef("discord", str(LOCKED))
    result = await bot.send(locked, Reply((Notice("hi"),)))
    assert (result.outcome, result.reason) == (Outcome.GONE, "403 Missing Permissions (code 50013)")


async def test_server_errors_are_retried_a_few_times(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    fake.fail("POST", MESSAGES, 503, SERVER_ERROR, times=2)
    result = await bot.send(CHANNEL, Reply((Notice("third time lucky"),)))
    assert result.outcome is Outcome.SENT
    assert [r.status for r in fake.calls("POST", MESSAGES)] == [503, 503, 200]


async def test_persistent_server_errors_mean_retry_later_keeping_what_was_sent(
        bot: DiscordAdapter, fake: FakeDiscord) -> None:
    fake.fail("POST", MESSAGES, 503, SERVER_ERROR, times=3, after=1)  # the second message meets an outage
    result = await bot.send(CHANNEL, digest(items=12))
    assert result.outcome is Outcome.RETRY_LATER
    assert result.reason == "503 503: Service Unavailable (code 0)"
    assert len(result.message_ids) == 1
    assert len(fake.calls("POST", MESSAGES)) == 1 + 3  # the first message, then three attempts


async def test_fan_out_is_paced_under_the_global_limit(start_bot: StartBot, core: Core) -> None:
    fake = FakeDiscord(global_limit=20)
    async with fake:
        adapter = await start_bot(core, api_base_url=fake.base_url, budget=RateBudget(18))
        chats = [CHANNEL, IN_THREAD, ChatRef("discord", str(NEWS))] * 10
        began = time.monotonic()
        results = await asyncio.gather(*(adapter.send(chat, Reply((Notice(f"n{i}"),))) for i, chat in
                                         enumerate(chats)))
        elapsed = time.monotonic() - began
        await adapter.stop()
    assert all(r.outcome is Outcome.SENT for r in results)
    posts = [r for r in fake.requests if r.path.endswith("/messages")]
    assert [r.status for r in posts] == [200] * 30  # never a 429
    assert elapsed >= 29 / 18 * 0.95


async def test_send_before_start_is_a_programming_error(core: Core) -> None:
    with pytest.raises(RuntimeError):
        await DiscordAdapter(core, "token").send(CHANNEL, Reply((Notice("x"),)))


async def test_errors_discord_py_already_retried_are_not_retried_again(bot: DiscordAdapter, fake: FakeDiscord,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real_sleep = asyncio.sleep

    async def no_wait(delay: float, *args: object) -> None:  # discord.py sleeps 1-7 s between its tries
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    fake.fail("POST", MESSAGES, 502, {"message": "502: Bad Gateway", "code": 0}, times=5)
    result = await bot.send(CHANNEL, Reply((Notice("x"),)))
    assert (result.outcome, result.reason) == (Outcome.RETRY_LATER, "502 502: Bad Gateway (code 0)")
    assert len(fake.calls("POST", MESSAGES)) == 5  # discord.py's own attempts, and no more
