"""parse_feed: every format to ArticleDrafts, the summary shape, sanitising, and hostile input."""

from __future__ import annotations

import codecs
import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.ingest.feeds import MAX_ENTRIES, FeedError, ParsedFeed, parse_feed
from bot.ingest.xmlguard import ENTITY_REASON
from bot.model import BiasRating, OutletInfo

from .feedserver import DATA, billion_laughs

URL = "https://feeds.example/source"


def parse(name: str, **kwargs: object) -> ParsedFeed:
    return parse_feed((DATA / name).read_bytes(), url=URL, **kwargs)  # type: ignore[arg-type]


def rss(items: str, extra_head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{extra_head}<rss version="2.0"><channel>'
            f"<title>Test Channel</title><link>https://test.example/</link>{items}</channel></rss>").encode()


def test_rss2() -> None:
    feed = parse("rss2.xml")
    lantern = OutletInfo(name="Lantern Street Notes",
                         description="Short weekly notes on civic life in Lantern Street.",
                         website="https://lantern.example/", bias=BiasRating.UNRATED)
    assert (feed.format, feed.title, feed.link, feed.description) == (
        "rss20", lantern.name, lantern.website, lantern.description)
    assert (feed.skipped, feed.truncated) == (2, False)  # the untitled item and the image-only one
    first, second = feed.entries
    assert first.title == "Council approves the river footbridge"
    assert first.lead == ("The council voted seven to two for the footbridge over the Mill River. "
                          "Construction starts in June.")
    assert (first.outlet, first.key_points) == (lantern, ())
    assert first.url == "https://lantern.example/2024/footbridge?utm_source=rss"
    assert first.guid == "lantern-0001"
    assert first.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=UTC)
    assert second.title == "Market hours change for winter"  # whitespace collapsed
    assert second.published_at == datetime(2024, 3, 4, 18, 0, tzinfo=UTC)  # no zone: UTC


def test_rss1_rdf() -> None:
    feed = parse("rss1.rdf")
    assert (feed.format, feed.title) == ("rss10", "Quarry Valley Bulletin")
    [entry] = feed.entries
    assert entry.lead == "The reading room now stays open until eight on Thursdays."
    assert entry.url == entry.guid == "https://quarry.example/items/7"
    assert entry.published_at == datetime(2024, 2, 10, 17, 45, tzinfo=UTC)


def test_atom() -> None:
    feed = parse("atom.xml")
    assert (feed.format, feed.title, feed.link) == (
        "atom10", "Orchard & Pine Review", "https://orchard.example/")
    apples, fences = feed.entries
    assert apples.lead == "A record harvest met weak export demand. Growers expect a rebound next year."
    assert apples.url == "https://feeds.example/essays/apples"  # relative link, resolved
    assert apples.published_at == datetime(2024, 3, 30, 17, 0, tzinfo=UTC)  # published wins
    assert fences.lead == "Cost per metre: <10 euros & falling."  # type="text" is not HTML
    assert fences.published_at == datetime(2024, 3, 20, 9, 0, tzinfo=UTC)


def test_json_feed() -> None:
    feed = parse("feed.json", content_type="application/feed+json")
    assert (feed.format, feed.title, feed.link, feed.description) == (
        "json11", "Tidewater Digest", "https://tidewater.example/", "Harbour news in brief.")
    assert feed.skipped == 2  # the untitled micro-post and the non-object item
    ferry, dredging = feed.entries
    assert ferry.lead == "Ferries run every half hour again."
    assert (ferry.guid, ferry.published_at) == ("tw-1", datetime(2024, 5, 2, 5, 15, tzinfo=UTC))
    # content_text in the summary shape is read as one too.
    assert dredging.guid == "42"
    assert dredging.lead == "Dredging of the north channel finished early."
    assert dredging.key_points == ("The channel is two metres deeper.", "Larger boats can dock at low tide.")
    assert dredging.outlet == OutletInfo(
        name="Tidewater Port Radio",
        description="Tidewater Port Radio is a community station run by harbour volunteers.",
        website="https://portradio.example/", bias=BiasRating.CENTER)
    assert dredging.published_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_json_feed_1_0_and_errors() -> None:
    item = {"id": "a", "title": "T", "content_text": "Body."}
    v1 = json.dumps({"version": "https://jsonfeed.org/version/1", "title": "Old", "items": [item]})
    assert parse_feed(v1.encode(), url=URL).format == "json1"
    with pytest.raises(FeedError, match=r"^invalid JSON: Expecting value \(line 1, column 12\)$"):
        parse_feed(b'{"items": [} ', url=URL)
    with pytest.raises(FeedError, match="not a JSON Feed"):
        parse_feed(b'{"version": "2.0", "items": []}', url=URL)
    with pytest.raises(FeedError, match="no items list"):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', url=URL)
    with pytest.raises(FeedError, match="invalid JSON"):
        parse_feed(b"{" + b'"a":[' * 100_000, url=URL)


def test_summary_shape_items() -> None:
    feed = parse("summaries.xml")
    full, no_rating, no_blurb = feed.entries
    assert full.title == "Harbour towns vote to share one fire service"
    assert full.lead.startswith("Three harbour towns agreed to merge their volunteer fire brigades")
    assert full.key_points == (
        "The merged service will have a single chief and a shared budget.",
        "Each town keeps its own station and engine.",
        "Opponents worry about longer response times in the outlying villages.",
    )
    assert full.outlet == OutletInfo(
        name="The Harbor Ledger",
        description="The Harbor Ledger is an independent weekly newspaper covering the coastal "
                    "towns of the northern bay.",
        website="https://harborledger.example/", bias=BiasRating.LEAN_RIGHT)
    assert full.url == "https://harborledger.example/2024/06/fire-merger"  # the original article
    assert (full.ai_generated, full.guid) == (True, "https://brief.example/?p=101")
    assert full.published_at == datetime(2024, 6, 12, 6, 0, tzinfo=UTC)
    assert "Leave a Reply" not in full.lead + " ".join(full.key_points) + full.outlet.description

    # Bullets followed by an outlet blurb, no rating line: still the shape, outlet unrated.
    assert no_rating.outlet.name == "Valley Wire"
    assert no_rating.outlet.bias is BiasRating.UNRATED
    assert no_rating.key_points == (
        "Repairs cost more than planned.", "Trains run at reduced speed until autumn.")
    assert no_rating.url == "https://brief.example/rail-reopens"

    # A rating but no blurb or website: credited to the feed, keeping the summary's rating.
    assert no_blurb.outlet == OutletInfo(
        name="Balanced Brief", description="AI summaries of regional reporting.",
        website="https://brief.example/", bias=BiasRating.LEFT)
    assert no_blurb.key_points == ("Every primary pupil qualifies.",)


def test_the_stored_outlet_applies_to_plain_entries_only() -> None:
    stored = OutletInfo("Stored Name", bias=BiasRating.LEAN_LEFT)
    plain = parse("rss2.xml", outlet=stored)
    assert {e.outlet for e in plain.entries} == {stored}
    shaped = parse("summaries.xml", outlet=stored)
    assert shaped.entries[0].outlet.bias is BiasRating.LEAN_RIGHT


def test_list_without_outlet_blurb_is_not_the_summary_shape() -> None:
    body = rss("<item><title>Recipe</title><description><![CDATA[<p>Soup for four.</p>"
               "<ul><li>Two leeks</li><li>One potato</li></ul><p>Simmer for an hour.</p>]]>"
               "</description></item>")
    [entry] = parse_feed(body, url=URL).entries
    assert entry.key_points == ()
    assert entry.lead == "Soup for four. Two leeks One potato Simmer for an hour."
    assert entry.outlet.name == "Test Channel"


def test_markup_and_page_noise_never_reach_the_text() -> None:
    html = ('<p>Kept paragraph.</p><script>var secret = 1;</script><style>.ad{}</style>'
            '<noscript>enable js</noscript><iframe src="https://ads.example/">frame text</iframe>'
            '<img src="https://pixel.example/p.gif" width="1" height="1" alt="pixel alt">'
            '<form><label>Comment *</label><textarea>draft</textarea><button>Post Comment</button></form>'
            '<object data="x.swf">object text</object><svg><text>svg text</text></svg>'
            '<p onclick="steal()">Second <b>kept</b> paragraph.<!-- comment --></p>'
            "<h3>Leave a Reply</h3><p>Your email address will not be published.</p>")
    for body in (rss(f"<item><title>T</title><description><![CDATA[{html}]]></description></item>"),
                 json.dumps({"version": "https://jsonfeed.org/version/1.1",
                             "items": [{"id": "1", "title": "T", "content_html": html}]}).encode()):
        [entry] = parse_feed(body, url=URL).entries
        assert entry.lead == "Kept paragraph. Second kept paragraph."


def test_long_plain_entries_are_shortened() -> None:
    para = "word " * 79 + "end."  # 400 characters
    items = (f"<item><title>Three paragraphs</title><description><![CDATA[<p>{para}</p><p>{para}</p>"
             f"<p>{para}</p>]]></description></item>"
             f"<item><title>One wall of text</title><description>{'long ' * 600}</description></item>")
    three, wall = parse_feed(rss(items), url=URL).entries
    assert three.lead == f"{para} {para}"  # whole paragraphs, at most 1000 characters
    assert len(wall.lead) <= 1000 and wall.lead.endswith("long…")


@pytest.mark.parametrize("kind", ["rss", "json"])
def test_entries_are_capped(kind: str) -> None:
    count = range(MAX_ENTRIES + 100)
    if kind == "rss":
        body = rss("".join(f"<item><title>Item {n}</title><description>Text {n}.</description></item>"
                           for n in count))
    else:
        body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
            {"id": n, "title": f"Item {n}", "content_text": f"Text {n}."} for n in count]}).encode()
    feed = parse_feed(body, url=URL)
    assert (len(feed.entries), feed.truncated, feed.skipped) == (MAX_ENTRIES, True, 0)
    assert (feed.entries[0].title, feed.entries[-1].title) == ("Item 0", f"Item {MAX_ENTRIES - 1}")


def test_only_web_links_are_kept() -> None:
    body = rss("<item><title>T</title><link>javascript:alert(1)</link><description>x</description></item>")
    assert parse_feed(body, url=URL).entries[0].url is None


def test_relative_links_resolve_against_xml_base_else_the_feed_url() -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>Base Test</title><link href='/home'/>"
            "<entry><title>Plain relative</title><id>urn:one</id><link href='posts/1'/>"
            "<summary>One.</summary><updated>2024-03-30T17:00:00Z</updated></entry>"
            "<entry xml:base='https://cdn.example/mirror/'><title>Under a base</title><id>urn:two</id>"
            "<link href='posts/2'/><summary>Two.</summary><updated>2024-03-30T17:00:00Z</updated></entry>"
            "<entry><title>Bad link</title><id>urn:three</id><link href='javascript:alert(1)'/>"
            "<summary>Three.</summary><updated>2024-03-30T17:00:00Z</updated></entry></feed>").encode()
    feed = parse_feed(body, url="https://feeds.example/blog/atom.xml")
    assert feed.link == "https://feeds.example/home"
    assert [e.url for e in feed.entries] == ["https://feeds.example/blog/posts/1",
                                             "https://cdn.example/mirror/posts/2", None]


def test_dates_with_offsets_become_utc() -> None:
    body = rss("<item><title>T</title><pubDate>Sun, 07 Jan 2024 23:30:00 -0300</pubDate>"
               "<description>x</description></item>")
    when = parse_feed(body, url=URL).entries[0].published_at
    assert when == datetime(2024, 1, 8, 2, 30, tzinfo=UTC)
    assert when is not None and when.utcoffset() == timedelta(0)


def test_invalid_xml_reason() -> None:
    with pytest.raises(FeedError) as caught:
        parse("invalid.xml")
    assert caught.value.reason == "invalid XML: mismatched tag (line 8, column 4)"


def test_encoding_quibbles_are_tolerated() -> None:
    body = rss("<item><title>Café “quoted”</title><description>Crème brûlée.</description></item>")
    for content_type in ("text/plain", "text/xml", "application/octet-stream", "text/html"):
        feed = parse_feed(body, url=URL, content_type=content_type)
        assert [e.title for e in feed.entries] == ["Café “quoted”"]


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><note><to>Someone</to></note>',
    (DATA / "page.html").read_bytes(),
    b"plain words, no markup at all",
])
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_feed(body, url=URL)


def test_feedparser_never_opens_a_path_or_url() -> None:
    """feedparser.parse treats a str or bytes argument as a file name or URL if it can."""
    for body in (str(DATA / "rss2.xml").encode(), b"http://127.0.0.1:9/feed.xml"):
        with pytest.raises(FeedError):
            parse_feed(body, url=URL)


def test_billion_laughs_is_rejected_before_parsing() -> None:
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        parse_feed(billion_laughs(), url=URL)
    assert caught.value.reason == ENTITY_REASON
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("variant", ["utf-16", "padded", "external", "utf-7", "lowercase"])
def test_entity_tricks_are_rejected(variant: str) -> None:
    laughs = billion_laughs().decode()
    wide = laughs.replace('?xml version="1.0"?', '?xml version="1.0" encoding="utf-16"?')
    body = {
        "utf-16": codecs.BOM_UTF16_LE + wide.encode("utf-16-le"),
        "padded": laughs.replace("<!DOCTYPE", "<!--" + " " * 200_000 + "-->\n<!DOCTYPE").encode(),
        "external": rss("<item><title>&xxe;</title><description>x</description></item>",
                        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'),
        "utf-7": ('<?xml version="1.0" encoding="utf-7"?>'
                  '+ADwAIQ-DOCTYPE rss +AFsAPAAh-ENTITY a +ACI-b+ACIAPgBd-+AD4-<rss/>').encode(),
        "lowercase": laughs.replace("<!DOCTYPE", "<!doctype").replace("<!ENTITY", "<!entity").encode(),
    }[variant]
    with pytest.raises(FeedError) as caught:
        parse_feed(body, url=URL)
    assert caught.value.reason == ENTITY_REASON


def test_escaped_entity_text_is_fine() -> None:
    # the description is HTML, so the literal text "<!ENTITY>" is escaped once for HTML, once for XML
    body = rss("<item><title>XML tips</title><description>Never use &amp;lt;!ENTITY&amp;gt; in feeds."
               "</description></item>", "<!DOCTYPE rss>")
    [entry] = parse_feed(body, url=URL).entries
    assert entry.lead == "Never use <!ENTITY> in feeds."


def test_json_dates_without_zone_are_utc() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": 1, "title": "a", "content_text": "x", "date_published": "2024-05-01T10:00:00"},
        {"id": 2, "title": "b", "content_text": "y", "date_modified": "2024-05-01T10:00:00+05:30"},
        {"id": True, "title": "c", "content_text": "z", "date_published": "not a date"},
    ]}).encode()
    a, b, c = parse_feed(body, url=URL).entries
    assert a.published_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert b.published_at == datetime(2024, 5, 1, 4, 30, tzinfo=UTC)
    assert b.published_at == datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert (c.published_at, c.guid) == (None, None)


def test_an_entry_id_is_its_link_only_when_it_is_a_web_address() -> None:
    """feedparser offers the id where the link is missing: 'a2' was stored as a page of the feed's site."""
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Notes</title><id>urn:n</id>
    <updated>2026-01-01T00:00:00Z</updated>
    <entry><title>One</title><id>a2</id><updated>2026-01-01T00:00:00Z</updated><summary>Text one.</summary></entry>
    <entry><title>Two</title><id>https://notes.example/2</id><updated>2026-01-01T00:00:00Z</updated>
    <summary>Text two.</summary></entry>
    <entry><title>Three</title><link href="/3"/><id>c3</id><updated>2026-01-01T00:00:00Z</updated>
    <summary>Text three.</summary></entry></feed>"""
    feed = parse_feed(atom, url="https://notes.example/feed.xml")
    assert [(e.title, e.url) for e in feed.entries] == [("One", None), ("Two", "https://notes.example/2"),
                                                        ("Three", "https://notes.example/3")]


def test_a_relative_link_that_is_also_the_guid_is_resolved() -> None:
    body = rss("<item><title>T</title><link>/news/a2</link><guid>/news/a2</guid><description>x</description></item>")
    assert parse_feed(body, url="https://site.example/feed.xml").entries[0].url == "https://site.example/news/a2"


@pytest.mark.parametrize("kind, body", [
    ("atom", b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>N</title><id>urn:n</id>
     <updated>2026-01-01T00:00:00Z</updated><entry><title>Slip</title><id>urn:1</id>
     <updated>0001-01-01T00:00:00+05:00</updated><summary>Text.</summary></entry>
     <entry><title>Fine</title><id>urn:2</id><updated>2026-01-01T00:00:00Z</updated><summary>Text.</summary></entry>
     </feed>"""),
    ("json", b'{"version": "https://jsonfeed.org/version/1.1", "title": "N", "items": ['
             b'{"id": "1", "title": "Slip", "content_text": "Text.", "date_published": "0001-01-01T00:00:00+05:00"},'
             b'{"id": "2", "title": "Fine", "content_text": "Text.", "date_published": "2026-01-01T00:00:00Z"}]}'),
])
def test_a_date_past_the_calendar_is_unknown_and_the_feed_still_reads(kind: str, body: bytes) -> None:
    """Year 0 once in UTC raised, and the whole feed failed with an internal error."""
    feed = parse_feed(body, url="https://site.example/feed")
    assert [(e.title, e.published_at) for e in feed.entries] == [
        ("Slip", None), ("Fine", datetime(2026, 1, 1, tzinfo=UTC))]
