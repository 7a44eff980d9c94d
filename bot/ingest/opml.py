"""Import and export source lists as OPML, the format every feed reader trades subscriptions in."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from bot.ingest.xmlguard import ENTITY_REASON, declares_entities

# Characters XML 1.0 cannot carry even escaped; a title pasted from somewhere may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class OpmlError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FeedOutline:
    title: str
    xml_url: str
    html_url: str | None = None


def parse_opml(data: bytes) -> list[FeedOutline]:
    """Every feed outline, however deeply nested in folders; duplicates and non-web URLs dropped."""
    if declares_entities(data):
        raise OpmlError(ENTITY_REASON)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError(f"invalid XML: {exc}") from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise OpmlError("not an OPML document (no <opml> with a <body>)")
    feeds: list[FeedOutline] = []
    seen: set[str] = set()
    for outline in body.iter("outline"):  # iter() walks nested folders too
        feed = _feed_of(outline)
        if feed and feed.xml_url not in seen:
            seen.add(feed.xml_url)
            feeds.append(feed)
    return feeds


def _feed_of(outline: ET.Element) -> FeedOutline | None:
    attrs = {key.lower(): value.strip() for key, value in outline.attrib.items()}
    xml_url = _web_url(attrs.get("xmlurl"))
    if xml_url is None:
        return None  # a folder, or a feed we could not fetch anyway
    title = " ".join((attrs.get("title") or attrs.get("text") or xml_url).split())
    return FeedOutline(title=title, xml_url=xml_url, html_url=_web_url(attrs.get("htmlurl")))


def _web_url(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def export_opml(feeds: Iterable[FeedOutline], title: str = "newsdigest sources") -> str:
    """An OPML 2.0 document listing feeds as rss outlines; ElementTree does the escaping."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _xml_safe(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        name = _xml_safe(feed.title) or feed.xml_url
        attrs = {"type": "rss", "text": name, "title": name, "xmlUrl": _xml_safe(feed.xml_url)}
        if feed.html_url:
            attrs["htmlUrl"] = _xml_safe(feed.html_url)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)
