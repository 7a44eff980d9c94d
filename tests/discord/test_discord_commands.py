"""Every reading command end to end: an injected slash command in, what the bot sent out."""

from __future__ import annotations

import json

from factories import draft
from fake_discord import DM, FakeDiscord, InteractionLog, Shown

from adapters.discord import DiscordAdapter
from storage.sqlite import SQLiteRepository


async def answer(fake: FakeDiscord, log: InteractionLog, messages: int = 1) -> list[Shown]:
    """The messages shown for `log` once there are `messages` of them and none is loading."""
    await fake.until(lambda: len(log.shown()) >= messages and not any(s.body.get("loading") for s in log.shown()))
    assert log.answered_after is not None and log.answered_after < 3.0
    return log.shown()


def titles(shown: list[Shown]) -> list[str]:
    return [embed["title"] for message in shown for embed in message.embeds]


def bodies_sent(fake: FakeDiscord) -> list[dict]:
    return [r.body for r in fake.requests
            if r.body and (r.path.startswith(("/webhooks/", "/channels/")) or r.path.endswith("/callback"))]


async def test_help_lists_the_commands(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    [shown] = await answer(fake, await fake.invoke("help"))
    assert not shown.ephemeral
    assert "/latest" in shown.content and "/search" in shown.content


async def test_latest_shows_the_newest_first_and_count_limits_it(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    [five] = await answer(fake, await fake.invoke("latest"))
    assert five.content == "**Latest 5**"
    assert titles([five]) == [f"Test story number {n} about harbour cranes" for n in (5, 4, 3, 2, 1)]
    [two] = await answer(fake, await fake.invoke("latest", count=2))
    assert titles([two]) == ["Test story number 5 about harbour cranes", "Test story number 4 about harbour cranes"]
    assert two.embeds[0]["url"] == "https://ledgerwire.example/story/5"


async def test_article_source_sources_search_and_digest(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    [article] = await answer(fake, await fake.invoke("article", id=3))
    assert article.embeds[0]["title"] == "Test story number 3 about harbour cranes"
    assert "Third point of 3." in article.embeds[0]["description"]

    [outlet] = await answer(fake, await fake.invoke("source", ref="Ledger Wire"))
    assert outlet.embeds[0]["title"] == "Ledger Wire"
    [by_article] = await answer(fake, await fake.invoke("source", ref="3"))
    assert by_article.embeds[0]["title"] == "Plainview Times"

    [sources] = await answer(fake, await fake.invoke("sources"))
    assert sources.content.startswith("**3 sources**")
    assert "Harbour Courier" in sources.content

    [found] = await answer(fake, await fake.invoke("search", words="story 4"))
    assert "Test story number 4 about harbour cranes" in titles([found])

    [digest] = await answer(fake, await fake.invoke("digest"))
    assert digest.content == r"**Your next digest \(preview\)**"
    assert digest.embeds


async def test_wrong_arguments_get_a_private_usage_line(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    [shown] = await answer(fake, await fake.invoke("latest", count=99))
    assert shown.ephemeral
    assert "Usage: /latest \\[count\\]" in shown.content
    [missing] = await answer(fake, await fake.invoke("article", id=999))
    assert missing.ephemeral and "No article #999" in missing.content


async def test_commands_work_in_a_thread_and_a_dm(bot: DiscordAdapter, fake: FakeDiscord) -> None:
    from fake_discord import THREAD

    [in_thread] = await answer(fake, await fake.invoke("latest", count=1, in_channel=THREAD))
    [in_dm] = await answer(fake, await fake.invoke("latest", count=1, in_channel=DM))
    assert titles([in_thread]) == titles([in_dm]) == ["Test story number 5 about harbour cranes"]


async def test_a_long_reply_becomes_several_messages_in_order(bot: DiscordAdapter, fake: FakeDiscord,
                                                              repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(n, "Crossroads Digest") for n in range(6, 26)])
    log = await fake.invoke("latest", count=25)
    shown = await answer(fake, log, messages=3)
    assert [len(s.embeds) for s in shown] == [10, 10, 5]
    assert titles(shown) == [f"Test story number {n} about harbour cranes" for n in range(25, 0, -1)]
    assert log.callback_types == [4]  # answered in time: the first message is the response itself
    assert [kind for kind, _, _ in log.events] == ["callback", "followup", "followup"]
    assert all(body.get("data", body)["allowed_mentions"] == {"parse": []} for body in bodies_sent(fake))


async def test_mentions_in_stored_titles_are_inert_and_never_allowed(bot: DiscordAdapter, fake: FakeDiscord,
                                                                      repo: SQLiteRepository) -> None:
    await repo.store_articles([draft(40, title="@everyone look: <@123> and <@&456> @here")])
    [shown] = await answer(fake, await fake.invoke("latest", count=1))
    title = shown.embeds[0]["title"]
    assert "look" in title
    for ping in ("@everyone", "<@123>", "<@&456>", "@here"):
        assert ping not in title
    sent = bodies_sent(fake)
    assert sent
    for body in sent:
        message = body.get("data", body)
        assert message["allowed_mentions"] == {"parse": []}, body
        assert "@everyone" not in json.dumps(message, ensure_ascii=False)
