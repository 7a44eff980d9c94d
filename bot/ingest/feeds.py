"""Turn a fetched feed body (RSS 0.9x/1.0/2.0, Atom, JSON Feed 1.0/1.1) into ArticleDrafts.

Entries written in the project's summary shape keep their key points and outlet; any other
entry becomes a short lead attributed to the feed itself. Nothing here touches the network:
feedparser only ever sees bytes, never a URL or a file name.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
import xml.sax
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.ingest.xmlguard import ENTITY_REASON, declares_entities
from bot.model import ArticleDraft, BiasRating, OutletInfo
from bot.summary_format import (
    MAX_TITLE,
    Block,
    SummaryFormatError,
    blocks_text,
    draft_from_blocks,
    html_blocks,
    html_to_text,
    text_blocks,
)

log = logging.getLogger(__name__)

MAX_ENTRIES = 500
LEAD_CHARS = 1000
JSON_FEED_PREFIX = "https://jsonfeed.org/version/"

_QUIBBLES = (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown,
             feedparser.NonXMLContentType)
_RATING_LINE = re.compile(r"^AllSides Media Bias Rating:", re.IGNORECASE)
_BLURB = re.compile(r"^\S.{1,79}?\s(?:is|are|was|has been|describes itself as)\s", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"']+")


class FeedError(ValueError):
    """The body is not a usable feed; `reason` says why in words a chat user can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    description: str
    format: str  # feedparser's version ("rss20", "atom10", "rss10", ...) or "json1"/"json11"
    entries: list[ArticleDraft] = field(default_factory=list)
    skipped: int = 0  # entries dropped for lacking a title or any text
    truncated: bool = False  # the feed had more than MAX_ENTRIES entries; the rest were ignored


def skipped_note(skipped: int) -> str:
    """What the counts of a poll or check add when entries could not be summaries."""
    return f", {skipped} skipped for want of a title or text" if skipped else ""


class _Entry(NamedTuple):
    """One feed item reduced to what a draft needs, whatever the feed format."""

    title: str
    html: str
    url: str | None
    guid: str | None
    published_at: datetime | None


def parse_feed(body: bytes, *, url: str, content_type: str | None = None,
               outlet: OutletInfo | None = None) -> ParsedFeed:
    """Parse a feed body fetched from url; raises FeedError with a precise reason.

    The format is chosen from the body, not the (often wrong) Content-Type: a body starting
    with "{" is read as JSON Feed, anything else as XML. content_type only helps feedparser
    pick a character set. `outlet` is the feed's own outlet as stored (name, rating), used for entries
    that do not name another outlet.
    """
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        head, entries, total = _read_json_feed(body)
    else:
        head, entries, total = _read_xml_feed(body, url, content_type)
    feed_outlet = outlet or OutletInfo(name=head.title or urlsplit(url).hostname or url,
                                       description=head.description, website=head.link)
    drafts: list[ArticleDraft] = []
    skipped = 0
    for entry in entries:
        draft = _draft(entry, feed_outlet)
        if draft is None:
            skipped += 1
        else:
            drafts.append(draft)
    truncated = total > MAX_ENTRIES
    if truncated:
        log.info("feed %s has %s entries; only the first %s are read", url, total, MAX_ENTRIES)
    return replace(head, entries=drafts, skipped=skipped, truncated=truncated)


def _read_xml_feed(body: bytes, url: str,
                   content_type: str | None) -> tuple[ParsedFeed, list[_Entry], int]:
    if declares_entities(body):
        raise FeedError(ENTITY_REASON)
    parsed = feedparser.parse(  # a stream, so feedparser can neither fetch nor open a file
        io.BytesIO(body),
        # No content-location: with a base URI, feedparser joins URLs at every element. The links
        # read here are resolved against the feed's URL below; an xml:base in the feed still counts.
        response_headers={"content-type": content_type or "application/xml"},
        # Only text leaves this module, and summary_format drops whole script, iframe, form...
        # elements; feedparser's sanitizer would instead keep the text inside an iframe.
        sanitize_html=False,
        resolve_relative_uris=False,  # links are taken as given; this pass costs a second HTML parse
    )
    if parsed.bozo:
        problem = parsed.get("bozo_exception")
        if not (isinstance(problem, _QUIBBLES) and (parsed.entries or parsed.version)):
            raise FeedError(_bozo_reason(problem))
        log.debug("feed %s: tolerated %s", url, problem)
    if not parsed.version:
        raise FeedError("not an RSS, Atom or JSON feed")
    feed = parsed.feed
    head = ParsedFeed(
        title=_clean_title(feed.get("title", ""), feed.get("title_detail")),
        link=_http_url(_resolved(url, feed.get("link"))),
        description=" ".join(html_to_text(feed.get("subtitle", "")).split()),
        format=parsed.version,
    )
    return head, [_xml_entry(entry, url) for entry in parsed.entries[:MAX_ENTRIES]], len(parsed.entries)


def _bozo_reason(problem: object) -> str:
    if isinstance(problem, xml.sax.SAXParseException):
        return (f"invalid XML: {problem.getMessage()} "
                f"(line {problem.getLineNumber()}, column {problem.getColumnNumber()})")
    return f"invalid feed: {problem}"


def _xml_entry(entry: Any, feed_url: str) -> _Entry:
    return _Entry(
        title=_clean_title(entry.get("title", ""), entry.get("title_detail")),
        html=_entry_html(entry),
        url=_entry_link(entry, feed_url),
        guid=entry.get("id") or None,
        published_at=_entry_time(entry),
    )


def _entry_link(entry: Any, feed_url: str) -> str | None:
    """The entry's web link. feedparser offers the id where the link is missing: an id that is no
    path ("a2", "urn:uuid:...") is no link, though "a2" resolved against the feed would make one."""
    link = entry.get("link")
    if link == entry.get("id") and "/" not in str(link):
        return None
    return _http_url(_resolved(feed_url, link))


def _resolved(feed_url: str, link: object) -> object:
    """A relative link ("/essays/apples") as the absolute URL it means on the feed's site."""
    if not isinstance(link, str) or not link.strip():
        return link
    try:
        return urljoin(feed_url, link.strip())
    except ValueError:  # a malformed URL is no link
        return None


def _entry_html(entry: Any) -> str:
    """The fullest body an entry has: its content, else its summary; plain text made HTML."""
    details = [*entry.get("content", []), entry.get("summary_detail") or {}]
    for detail in details:
        value = detail.get("value") or ""
        if value.strip():
            return _text_to_html(value) if detail.get("type") == "text/plain" else value
    return ""


def _entry_time(entry: Any) -> datetime | None:
    """feedparser's UTC struct_time, else our own reading of dates it could not parse.

    dict.get, not entry.get: FeedParserDict maps a missing "updated" to "published" with a
    DeprecationWarning, and we ask for each one explicitly anyway.
    """
    for key in ("published", "updated"):
        if parsed := dict.get(entry, f"{key}_parsed"):
            try:
                return datetime(*parsed[:6], tzinfo=UTC)
            except ValueError:  # year 0: feedparser moved 0001-01-01+05:00 back past the calendar's start
                return None
    for key in ("published", "updated"):
        if when := _parse_date(dict.get(entry, key)):
            return when
    return None


def _read_json_feed(body: bytes) -> tuple[ParsedFeed, list[_Entry], int]:
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise FeedError(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # bad encoding, giant numbers, deep nesting
        raise FeedError(f"invalid JSON: {exc}") from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith(JSON_FEED_PREFIX):
        raise FeedError(f"JSON without a {JSON_FEED_PREFIX}… version: not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedError("the JSON Feed has no items list")
    head = ParsedFeed(
        title=_plain(data.get("title")),
        link=_http_url(data.get("home_page_url")),
        description=_plain(data.get("description")),
        format="json" + version.removeprefix(JSON_FEED_PREFIX).replace(".", ""),
    )
    return head, [_json_entry(item) for item in items[:MAX_ENTRIES]], len(items)


def _json_entry(item: object) -> _Entry:
    if not isinstance(item, dict):
        return _Entry("", "", None, None, None)
    if isinstance(item.get("content_html"), str) and item["content_html"].strip():
        body = item["content_html"]
    else:
        text = item.get("content_text") or item.get("summary")
        body = _text_to_html(text) if isinstance(text, str) else ""
    guid = item.get("id")
    usable = isinstance(guid, (str, int)) and not isinstance(guid, bool) and str(guid).strip()
    return _Entry(
        title=_plain(item.get("title")),
        html=body,
        url=_http_url(item.get("url")),
        guid=str(guid) if usable else None,
        published_at=_parse_date(item.get("date_published")) or _parse_date(item.get("date_modified")),
    )


def _draft(entry: _Entry, feed_outlet: OutletInfo) -> ArticleDraft | None:
    """The entry as a draft, in the summary shape when it has one; None if it is unusable."""
    if not entry.title or not entry.html:
        return None
    blocks = html_blocks(entry.html)
    if _is_summary_shape(blocks):
        try:
            draft = draft_from_blocks(blocks, title=entry.title, url=entry.url,
                               published_at=entry.published_at, guid=entry.guid)
        except SummaryFormatError as exc:
            log.debug("entry %r looked like a summary but is not: %s", entry.title, exc)
        else:
            return _with_known_outlet(draft, feed_outlet)
    lead = _shorten(blocks_text(blocks))
    if not lead:
        return None
    return ArticleDraft(title=entry.title, lead=lead, outlet=feed_outlet, url=entry.url,
                        published_at=entry.published_at, guid=entry.guid)


def _is_summary_shape(blocks: list[Block]) -> bool:
    """A bias-rating line, or a bullet list followed by a paragraph introducing an outlet."""
    if any(_RATING_LINE.match(block.text) for block in blocks):
        return True
    after_list = False
    for block in blocks:
        if block.bullet:
            after_list = True
        elif after_list:
            return bool(_BLURB.match(block.text))
    return False


def _with_known_outlet(draft: ArticleDraft, feed_outlet: OutletInfo) -> ArticleDraft:
    """A summary that says nothing about its outlet is credited to the feed, keeping its rating."""
    outlet = draft.outlet
    if outlet.description or outlet.website:
        return draft
    bias = outlet.bias if outlet.bias is not BiasRating.UNRATED else feed_outlet.bias
    return replace(draft, outlet=replace(feed_outlet, bias=bias))


def _shorten(text: str, limit: int = LEAD_CHARS) -> str:
    """Whole leading paragraphs up to limit characters; a too-long first one is cut at a word."""
    lead = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{lead} {paragraph}".strip()
        if len(candidate) > limit:
            break
        lead = candidate
    if lead or not text:
        return lead
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-")
    return cut + "…"


def _text_to_html(text: str) -> str:
    """Plain text as HTML so one reader handles both: bullets become list items, URLs links."""
    parts = []
    for block in text_blocks(text):
        tag = "li" if block.bullet else "p"
        parts.append(f"<{tag}>{_linked(block.text)}</{tag}>")
    return "".join(parts)


def _linked(text: str) -> str:
    parts = _URL.split(text)
    links = _URL.findall(text)
    out = [html.escape(parts[0])]
    for link, rest in zip(links, parts[1:]):
        out.append(f'<a href="{html.escape(link)}">{html.escape(link)}</a>{html.escape(rest)}')
    return "".join(out)


def _clean_title(value: str, detail: dict[str, Any] | None) -> str:
    kind = (detail or {}).get("type", "text/plain")
    text = html_to_text(value) if kind in ("text/html", "application/xhtml+xml") else value
    return " ".join(text.split())[:MAX_TITLE]


def _plain(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _http_url(value: object) -> str | None:
    """Only web links: a feed can carry javascript:, data: or file: URLs just as easily."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _parse_date(value: object) -> datetime | None:
    """RFC 3339 or RFC 822; a date without a zone is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    try:
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    except OverflowError:  # past either end of the calendar once in UTC
        return None
