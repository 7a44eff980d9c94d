"""Small builders for test data, written for the tests (no shared seed text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typing import TYPE_CHECKING

from bot.model import ArticleDraft, BiasRating, OutletInfo

if TYPE_CHECKING:
    from bot.model import Delivery, Subscription
    from storage.sqlite import SQLiteRepository

OUTLETS = {
    "Harbour Courier": BiasRating.LEAN_LEFT,
    "Ledger Wire": BiasRating.LEAN_RIGHT,
    "Plainview Times": BiasRating.CENTER,
    "Red Lantern Daily": BiasRating.LEFT,
    "Frontier Standard": BiasRating.RIGHT,
    "Crossroads Digest": BiasRating.MIXED,
}

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def outlet(name: str) -> OutletInfo:
    slug = name.lower().replace(" ", "")
    return OutletInfo(name, f"{name} is a test outlet invented for these tests.",
                      f"https://{slug}.example/", OUTLETS.get(name, BiasRating.UNRATED))


def draft(n: int, outlet_name: str = "Plainview Times", title: str | None = None, **changes: object) -> ArticleDraft:
    """The n-th test summary: distinct title, URL and time, three key points."""
    slug = outlet_name.lower().replace(" ", "")
    fields: dict[str, object] = dict(
        title=title or f"Test story number {n} about harbour cranes",
        lead=f"Lead paragraph of story {n}. It explains what happened and why it matters.",
        outlet=outlet(outlet_name),
        key_points=(f"First point of {n}.", f"Second point of {n}.", f"Third point of {n}."),
        url=f"https://{slug}.example/story/{n}",
        published_at=START + timedelta(minutes=n),
        ai_generated=n % 2 == 0,
    )
    fields.update(changes)
    return ArticleDraft(**fields)  # type: ignore[arg-type]


async def claim(repo: "SQLiteRepository", subscription: "Subscription", slot: datetime, next_due: datetime,
                article_ids: list[int], cursor: int, now: datetime) -> "Delivery | None":
    """Claim one slot to send, as the dispatcher does for a whole batch."""
    from storage.repository import SlotPlan

    plan = SlotPlan(subscription, slot, next_due, True, tuple(article_ids), cursor)
    return (await repo.record_slots([plan], now))[0]
