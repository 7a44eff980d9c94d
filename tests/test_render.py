"""Renderers: escaping keeps stored text inert, and every message fits its platform."""

import dataclasses
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from bot import limits
from bot.model import BiasRating
from bot.render.discord import embed_length, render_discord
from bot.render.packing import pack, shorten, text_length
from bot.render.telegram import render_telegram
from bot.render.text import covered_text, render_text
from bot.reply import ArticleCard, BalanceLine, Heading, ItemLine, Notice, Reply, SourceCard

EVIL = "Prices <b>up</b> & @everyone <@123> <#9> [click](https://evil.example) *bold* `code`"


def items(count: int, title: str = "Story", lead_words: int = 60) -> tuple[ItemLine, ...]:
    return tuple(
        ItemLine(i, f"{title} {i} " + "wordy " * 30, f"https://outlet.example/story/{i}?a=1&b=2", f"Outlet {i % 7}",
                 list(BiasRating)[i % 7], ("lead sentence " * lead_words).strip())
        for i in range(1, count + 1)
    )


class TagBalance(HTMLParser):
    """Counts open tags; a message cut mid-tag leaves something open or a stray '<'."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag


def test_telegram_escapes_stored_text() -> None:
    [message] = render_telegram(Reply((ItemLine(1, EVIL, "https://x.example/?a=1&b=\"2\"", EVIL,
                                                BiasRating.CENTER, EVIL),)))
    assert "<b>up</b>" not in message
    assert "Prices &lt;b&gt;up&lt;/b&gt; &amp; @everyone" in message
    assert 'href="https://x.example/?a=1&amp;b=&quot;2&quot;"' in message
    checker = TagBalance()
    checker.feed(message)
    assert checker.open == [] and set(checker.open) <= {"a", "b", "i"}


def test_discord_escapes_markdown_and_mentions() -> None:
    [message] = render_discord(Reply((Notice(EVIL), ItemLine(1, EVIL, None, EVIL, BiasRating.LEFT, EVIL))))
    for text in (message.content, message.embeds[0]["title"], message.embeds[0]["description"]):
        assert "@everyone" not in text and "<@123>" not in text and "<#9>" not in text
        assert "@\u200beveryone" in text
        assert "\\[click\\]\\(https://evil.example\\)" in text and "\\*bold\\*" in text


def test_plain_text_keeps_the_words() -> None:
    [message] = render_text(Reply((ItemLine(1, EVIL, None, "Outlet", BiasRating.MIXED, "Lead"),)))
    assert EVIL in message and "Outlet · Mixed" in message


def test_a_40_item_digest_splits_into_messages_that_each_fit() -> None:
    reply = Reply((Heading("Digest"), *items(40), BalanceLine(((BiasRating.LEFT, 3), (BiasRating.RIGHT, 2)))))
    telegram = render_telegram(reply)
    assert len(telegram) > 1
    for message in telegram:
        assert text_length(message) <= limits.TELEGRAM_MESSAGE
        checker = TagBalance()
        checker.feed(message)
        assert checker.open == []
    assert sum(m.count("· #") for m in telegram) == 40  # every item once, none cut in two

    discord = render_discord(reply)
    assert sum(len(m.embeds) for m in discord) == 40
    for message in discord:
        assert text_length(message.content) <= limits.DISCORD_CONTENT
        assert len(message.embeds) <= limits.DISCORD_EMBEDS_PER_MESSAGE
        assert sum(embed_length(e) for e in message.embeds) <= limits.DISCORD_EMBEDS_TOTAL
        for embed in message.embeds:
            assert text_length(embed["title"]) <= limits.DISCORD_EMBED_TITLE
            assert text_length(embed["description"]) <= limits.DISCORD_EMBED_DESCRIPTION
    assert discord[0].content == "**Digest**" and "Outlets by rating" in discord[-1].content


def test_huge_fields_are_cut_on_word_boundaries_within_limits() -> None:
    card = ArticleCard(7, "T " * 3000, "https://x.example/" + "a" * 5000, "O", BiasRating.CENTER,
                       "&<>" * 3000, tuple("point " * 400 for _ in range(30)), datetime(2026, 1, 1, tzinfo=UTC),
                       True)
    source = SourceCard(3, "N" * 500, "D " * 3000, BiasRating.RIGHT, "https://x.example", None, "https://y.example")
    for reply in (Reply((card,)), Reply((source,))):
        for message in render_telegram(reply):
            assert text_length(message) <= limits.TELEGRAM_MESSAGE
        for message in render_discord(reply):
            assert message.embeds_length() <= limits.DISCORD_EMBEDS_TOTAL
            for embed in message.embeds:
                assert text_length(embed["description"]) <= limits.DISCORD_EMBED_DESCRIPTION
                assert all(text_length(f["value"]) <= limits.DISCORD_FIELD_VALUE for f in embed.get("fields", []))
    assert "aaaa" not in render_telegram(Reply((card,)))[0]  # an over-long link is dropped, not cut


def test_shorten_cuts_between_words() -> None:
    assert shorten("alpha beta gamma delta", 13) == "alpha beta…"
    assert shorten("short", 10) == "short"
    assert text_length(shorten("😀" * 50, 11)) <= 11  # counted in UTF-16 units


def test_pack_never_splits_a_chunk() -> None:
    assert pack(["aaaa", "bbbb", "cccc"], 10, separator="\n") == ["aaaa\nbbbb", "cccc"]
    with pytest.raises(ValueError):
        pack(["x" * 11], 10)


def test_fit_shrinks_text_whose_escaped_form_grows() -> None:
    import html

    from bot.render.packing import fit

    assert text_length(fit("&<>" * 3000, 100, html.escape)) <= 100  # once looped forever
    assert fit("x", 0, html.escape) == ""


def story_items(count: int, outlets: int) -> tuple[ItemLine, ...]:
    """Digest items of stories covered by many outlets whose names need escaping."""
    covered = tuple((f"{EVIL} outlet {n} " + "long " * 20, list(BiasRating)[n % 7]) for n in range(outlets))
    return tuple(dataclasses.replace(item, covered_by=covered, blind_spot="left" if i % 2 else None)
                 for i, item in enumerate(items(count), 1))


def test_covered_by_names_outlets_with_ratings_and_counts_the_rest() -> None:
    three = (("DW News", BiasRating.CENTER), ("Harbour Courier", BiasRating.LEAN_LEFT),
             ("Ledger Wire", BiasRating.LEAN_RIGHT))
    assert covered_text(three) == "Covered by 3: DW News (C) · Harbour Courier (LL) · Ledger Wire (LR)"
    assert covered_text(three[:1]) == ""  # one outlet: the item's own line names it
    crowd = tuple((f"Outlet number {n}", BiasRating.CENTER) for n in range(100))
    line = covered_text(crowd)
    assert text_length(line) <= limits.COVERED_LINE and line.endswith(" more") and "+" in line
    assert line.count("(C)") + int(line.rsplit("+", 1)[1].split()[0]) == 100


def test_story_items_fit_every_platform_and_stay_escaped() -> None:
    reply = Reply((Heading("Digest"), *story_items(30, 60), BalanceLine(((BiasRating.LEFT, 3),))))
    telegram = render_telegram(reply)
    for message in telegram:
        assert text_length(message) <= limits.TELEGRAM_MESSAGE
        checker = TagBalance()
        checker.feed(message)
        assert checker.open == []
        assert "<b>up</b>" not in message
    assert sum(m.count("Covered by 60: ") for m in telegram) == 30
    assert sum(m.count("Blind spot: only outlets on the left") for m in telegram) == 15
    discord = render_discord(reply)
    assert sum(len(m.embeds) for m in discord) == 30
    for message in discord:
        assert message.embeds_length() <= limits.DISCORD_EMBEDS_TOTAL
        for embed in message.embeds:
            assert text_length(embed["description"]) <= limits.DISCORD_EMBED_DESCRIPTION
            assert "@everyone" not in embed["description"] and "Covered by 60: " in embed["description"]
    for message in render_text(reply):
        assert text_length(message) <= limits.CONSOLE_MESSAGE


@pytest.mark.parametrize("url", ["https://x.example/" + "a" * 8100,  # longer than a console message
                                 "https://x.example/?" + "&" * 970])  # short, but five times longer escaped
def test_a_link_too_long_for_a_message_is_left_out_and_nothing_breaks(url: str) -> None:
    """Stored links have no length limit: one such article stopped the console and failed the
    Telegram digest of every chat it was in."""
    reply = Reply((ItemLine(1, "Strike", url, "Ledger Wire", BiasRating.CENTER, "Dockers walked out."),
                   ArticleCard(2, "Strike", url, "Ledger Wire", BiasRating.CENTER, "Dockers walked out.", ("Pay.",),
                               None, False)))
    telegram = render_telegram(reply)
    assert all(text_length(m) <= limits.TELEGRAM_MESSAGE for m in telegram) and "href" not in "".join(telegram)
    console = render_text(reply)
    assert all(text_length(m) <= limits.CONSOLE_MESSAGE for m in console)
    assert ("x.example" in "".join(console)) == (len(url) <= limits.URL_MAX)  # plain text needs no escaping
    discord = render_discord(reply)
    assert all(("url" in embed) == (len(url) <= limits.URL_MAX) for m in discord for embed in m.embeds)
    assert "Strike" in "".join(console) and "Strike" in "".join(telegram)
