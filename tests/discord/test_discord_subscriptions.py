"""Subscribing a channel or a thread by slash command, then the dispatcher delivering through the adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import draft
from fake_discord import GENERAL, LOCKED, MOD, NEWS, PLAIN, THREAD, FakeDiscord, Shown

from adapters.discord import DiscordAdapter
from bot.delivery import DigestDispatcher
from bot.model import ChatRef, Schedule, Subscription
from storage.sqlite import SQLiteRepository


async def command(fake: FakeDiscord, name: str, **invoke: object) -> Shown:
    log = await fake.invoke(name, **invoke)  # type: ignore[arg-type]
    await fake.until(lambda: bool(log.shown()))
    return log.shown()[0]


async def deliver_due(repo: SQLiteRepository, bot: DiscordAdapter, subscription: Subscription) -> None:
    assert subscription.next_due_at is not None
    now = subscription.next_due_at + timedelta(minutes=1)
    report = await DigestDispatcher(repo, {"discord": bot}, lambda: now).tick()
    assert report.errors == []


async def test_a_moderator_subscribes_a_thread_and_the_digest_arrives_there(
        bot: DiscordAdapter, fake: FakeDiscord, repo: SQLiteRepository) -> None:
    shown = await command(fake, "subscribe", user=MOD, chat=THREAD, time="07:30", timezone="Europe/Berlin",
                          days="mon-fri")
    assert not shown.ephemeral and shown.content.startswith("Subscribed:")
    subscription = await repo.get_subscription(ChatRef("discord", str(GENERAL), str(THREAD)))
    assert subscription is not None
    assert (subscription.schedule.times, subscription.schedule.timezone) == (("07:30",), "Europe/Berlin")

    await repo.store_articles([draft(n, "Harbour Courier") for n in (30, 31)])
    await deliver_due(repo, bot, subscription)
    digest, balance = fake.posted[THREAD]  # the outlets-by-rating line follows the embeds
    assert digest["content"].startswith("**News digest · ")
    assert "Test story number 31 about harbour cranes" in [e["title"] for e in digest["embeds"]]
    assert balance["content"].startswith("*Outlets by rating:")
    assert all(m["allowed_mentions"] == {"parse": []} for m in (digest, balance))
    assert GENERAL not in fake.posted


async def test_a_subscribed_channel_that_starts_refusing_posts_is_disabled(
        bot: DiscordAdapter, fake: FakeDiscord, repo: SQLiteRepository) -> None:
    shown = await command(fake, "subscribe", user=MOD, chat=NEWS, time="06:00")
    assert shown.content.startswith("Subscribed:")
    news = ChatRef("discord", str(NEWS))
    subscription = await repo.get_subscription(news)
    assert subscription is not None and subscription.enabled

    await repo.store_articles([draft(32)])
    fake.fail("POST", f"/channels/{NEWS}/messages", 403, {"message": "Missing Permissions", "code": 50013})
    await deliver_due(repo, bot, subscription)
    assert len(fake.calls("POST", f"/channels/{NEWS}/messages")) == 1
    disabled = await repo.get_subscription(news)
    assert disabled is not None and not disabled.enabled
    assert disabled.disabled_reason == "403 Missing Permissions (code 50013)"


async def test_subscribing_needs_admin_rights_and_a_channel_the_bot_can_post_in(
        bot: DiscordAdapter, fake: FakeDiscord, repo: SQLiteRepository) -> None:
    refused = await command(fake, "subscribe", user=PLAIN, time="07:00")
    assert refused.ephemeral and refused.content == "Sorry, only this chat's admins can use /subscribe."
    locked = await command(fake, "subscribe", user=MOD, chat=LOCKED)
    assert locked.ephemeral and locked.content.startswith("I need Send Messages")
    assert await repo.get_subscription(ChatRef("discord", str(LOCKED))) is None
    assert await repo.get_subscription(ChatRef("discord", str(GENERAL))) is None


async def test_a_channel_the_bot_may_no_longer_post_in_can_still_be_unsubscribed(
        bot: DiscordAdapter, fake: FakeDiscord, repo: SQLiteRepository) -> None:
    """Unsubscribing checked the bot's own rights, the very ones it had lost, so the paused
    subscription could not be removed. #locked denies the bot Send Messages."""
    locked = ChatRef("discord", str(LOCKED))
    await repo.save_subscription(locked, Schedule(("06:00",)), datetime.now(UTC) + timedelta(hours=1))
    await repo.disable_chat(locked, "403 Missing Permissions (code 50013)")
    shown = await command(fake, "unsubscribe", user=MOD, chat=LOCKED)
    assert shown.content.startswith("Unsubscribed") and await repo.get_subscription(locked) is None
    refused = await command(fake, "unsubscribe", user=PLAIN, chat=NEWS)
    assert refused.content == "Sorry, only this chat's admins can use /unsubscribe."  # the caller's rights count
