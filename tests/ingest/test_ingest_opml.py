"""OPML import (flattened, filtered, entity-safe) and export (valid, escaped, round-trips)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.ingest.opml import FeedOutline, OpmlError, export_opml, parse_opml
from bot.ingest.xmlguard import ENTITY_REASON

from .feedserver import DATA, billion_laughs

TRICKY = 'Tom & Jerry <News> "daily"'


def test_parse_flattens_and_filters() -> None:
    assert parse_opml((DATA / "sources.opml").read_bytes()) == [
        FeedOutline("Lantern Street Notes", "https://lantern.example/feed.xml", "https://lantern.example/"),
        FeedOutline("Quarry Valley Bulletin", "https://quarry.example/rss.rdf", None),  # two folders deep
        FeedOutline("Tidewater & Co", "https://tidewater.example/feed.json", None),  # file: htmlUrl dropped
    ]  # the ftp: and javascript: feeds and the duplicate are gone


@pytest.mark.parametrize(("data", "reason"), [
    (billion_laughs().replace(b"<rss", b"<opml").replace(b"</rss>", b"</opml>"), ENTITY_REASON),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<opml version="2.0"><body><outline text="&x;" xmlUrl="https://a.example/"/></body></opml>',
     ENTITY_REASON),
    (b"<opml><body><outline></body></opml>", "invalid XML: mismatched tag: line 1, column 23"),
    (b'<rss version="2.0"><channel/></rss>', "not an OPML document (no <opml> with a <body>)"),
    (b'<opml version="2.0"><head/></opml>', "not an OPML document (no <opml> with a <body>)"),
])
def test_parse_errors(data: bytes, reason: str) -> None:
    with pytest.raises(OpmlError) as caught:
        parse_opml(data)
    assert caught.value.reason == reason


def test_export_is_valid_escaped_opml_2() -> None:
    feeds = [FeedOutline(TRICKY, "https://a.example/feed?x=1&y=2", "https://a.example/"),
             FeedOutline("Bell\x07 and\nnewline", "https://b.example/rss", None)]
    text = export_opml(feeds, title="Mine & yours")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert "Tom &amp; Jerry &lt;News&gt; &quot;daily&quot;" in text
    assert "x=1&amp;y=2" in text and "\x07" not in text
    root = ET.fromstring(text.encode())
    assert root.findtext("head/title") == "Mine & yours"
    assert root.findtext("head/dateCreated", "").endswith(" GMT")
    outlines = root.findall("body/outline")
    assert [o.get("type") for o in outlines] == ["rss", "rss"]
    assert outlines[0].get("text") == TRICKY
    assert outlines[1].get("htmlUrl") is None


def test_round_trip() -> None:
    feeds = [FeedOutline(TRICKY, "https://a.example/feed?x=1&y=2", "https://a.example/"),
             FeedOutline("Ünïcödé Tímes", "http://b.example/rss", None),
             FeedOutline("Bell\x07 and\nnewline", "https://c.example/rss", None)]
    back = parse_opml(export_opml(feeds).encode())
    assert back == [feeds[0], feeds[1], FeedOutline("Bell and newline", "https://c.example/rss", None)]
