"""Plain text for the console: no markup to escape, only the same shapes."""

from __future__ import annotations

from collections.abc import Callable

from bot import limits
from bot.model import BiasRating
from bot.render.packing import rendered_once, fit, pack, shorten, text_length, web_link
from bot.reply import (ArticleCard, BalanceLine, Heading, ItemLine, Notice, Part, Reply, SourceCard,
                       SourceLine)


def balance_text(counts: tuple[tuple[BiasRating, int], ...]) -> str:
    """'Outlets by rating: Left 1 · Center 2' — shared by every renderer."""
    return "Outlets by rating: " + " · ".join(f"{rating.label} {n}" for rating, n in counts)


def outlet_text(outlet: str, rating: BiasRating) -> str:
    return f"{outlet} · {rating.label}"


def covered_text(outlets: tuple[tuple[str, BiasRating], ...], limit: int = limits.COVERED_LINE,
                 escape: Callable[[str], str] = lambda s: s) -> str:
    """'Covered by 3: Harbour Courier (LL) · DW News (C) · Ledger Wire (LR)', escaped and within
    `limit`: outlets that do not fit are counted ('+4 more'). Empty for a story of one outlet,
    whose name the line above already gives."""
    if len(outlets) < 2:
        return ""
    head = f"Covered by {len(outlets)}: "
    names = [f"{shorten(name, limits.OUTLET_NAME)} ({rating.code})" for name, rating in outlets]
    for shown in range(len(names), 0, -1):
        more = f" · +{len(names) - shown} more" if shown < len(names) else ""
        escaped = escape(head + " · ".join(names[:shown]) + more)
        if text_length(escaped) <= limit:
            return escaped
    return fit(f"Covered by {len(outlets)} outlets", limit, escape)


def blind_spot_text(side: str) -> str:
    return f"Blind spot: only outlets on the {side} reported this"


@rendered_once
def _chunks(part: Part) -> list[str]:
    match part:
        case Notice(text) | Heading(text):
            return [shorten(text, limits.CONSOLE_MESSAGE)]
        case ItemLine():
            lines = [f"[{part.article_id}] {shorten(part.title, limits.TITLE_LINE)}",
                     f"     {outlet_text(part.outlet, part.rating)}"]
            if part.lead:
                lines.append(f"     {shorten(part.lead, limits.LEAD_LINE)}")
            if covered := covered_text(part.covered_by):
                lines.append(f"     {covered}")
            if part.blind_spot:
                lines.append(f"     {blind_spot_text(part.blind_spot)}")
            if link := web_link(part.url):
                lines.append(f"     {link}")
            return ["\n".join(lines)]
        case ArticleCard():
            head = [f"[{part.article_id}] {part.title}", outlet_text(part.outlet, part.rating)]
            if part.published_at:
                head.append(f"Published {part.published_at:%Y-%m-%d %H:%M} UTC")
            if link := web_link(part.url):
                head.append(f"Original: {link}")
            chunks = ["\n".join(head), shorten(part.lead, limits.CONSOLE_MESSAGE)]
            chunks += [f"  • {shorten(p, limits.CONSOLE_MESSAGE)}" for p in part.key_points]
            if part.ai_generated:
                chunks.append("This summary was written by AI.")
            return chunks
        case SourceCard():
            lines = [f"{part.name} (source {part.source_id})", f"Bias rating (AllSides): {part.rating.label}"]
            if part.description:
                lines.append(part.description)
            if part.website:
                lines.append(f"Website: {part.website}")
            if part.feed_url:
                lines.append(f"Feed: {part.feed_url}")
            if part.original_url:
                lines.append(f"Original: {part.original_url}")
            if part.status:
                lines.append(f"Status: {part.status}")
            return [shorten(line, limits.CONSOLE_MESSAGE) for line in lines]
        case SourceLine():
            status = f" — {part.status}" if part.status else ""
            return [f"{part.source_id:>4}  {part.name} · {part.rating.label}{status}"]
        case BalanceLine(counts):
            return [balance_text(counts)]
    raise TypeError(f"cannot render {part!r}")


def render_text(reply: Reply) -> list[str]:
    chunks = [chunk for part in reply.parts for chunk in _chunks(part)]
    return pack(chunks, limits.CONSOLE_MESSAGE, separator="\n")
