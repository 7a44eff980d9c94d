"""Telegram HTML parse mode: every text escaped, every message within 4096 characters."""

from __future__ import annotations

import html

from bot import limits
from bot.render.packing import rendered_once, fit, pack, web_link
from bot.render.text import balance_text, blind_spot_text, covered_text, outlet_text
from bot.reply import (ArticleCard, BalanceLine, Heading, ItemLine, Notice, Part, Reply, SourceCard,
                       SourceLine)

LIMIT = limits.TELEGRAM_MESSAGE


def escape(text: str) -> str:
    """Text between tags: only <, > and & mean anything to Telegram's HTML parser."""
    return html.escape(text, quote=False)


def link(title_html: str, url: str | None) -> str:
    """An anchor when the URL is a usable web link, the bare title otherwise."""
    if href := web_link(url, lambda url: html.escape(url, quote=True)):
        return f'<a href="{href}">{title_html}</a>'
    return title_html


@rendered_once
def _chunks(part: Part) -> list[str]:
    match part:
        case Notice(text):
            return [fit(text, LIMIT, escape)]
        case Heading(text):
            return [f"<b>{fit(text, LIMIT - 7, escape)}</b>"]
        case ItemLine():
            title = link(f"<b>{fit(part.title, limits.TITLE_LINE, escape)}</b>", part.url)
            meta = f"<i>{escape(outlet_text(part.outlet, part.rating))}</i> · #{part.article_id}"
            lead = fit(part.lead, limits.LEAD_LINE, escape)
            covered = covered_text(part.covered_by, limits.COVERED_LINE, escape)
            lines = [title, meta, lead, f"<i>{covered}</i>" if covered else ""]
            if part.blind_spot:
                lines.append(f"<b>{escape(blind_spot_text(part.blind_spot))}</b>")
            return ["\n".join(line for line in lines if line)]
        case ArticleCard():
            head = [link(f"<b>{fit(part.title, limits.TITLE_LINE, escape)}</b>", part.url),
                    f"<i>{escape(outlet_text(part.outlet, part.rating))}</i> · #{part.article_id}"]
            if part.published_at:
                head.append(f"{part.published_at:%Y-%m-%d %H:%M} UTC")
            chunks = ["\n".join(head), fit(part.lead, LIMIT, escape)]
            chunks += [f"• {fit(point, LIMIT - 2, escape)}" for point in part.key_points]
            if part.ai_generated:
                chunks.append("<i>This summary was written by AI.</i>")
            return chunks
        case SourceCard():
            lines = [f"<b>{fit(part.name, limits.TITLE_LINE, escape)}</b> · source #{part.source_id}",
                     f"Bias rating (AllSides): <b>{escape(part.rating.label)}</b>"]
            if part.description:
                lines.append(fit(part.description, 1500, escape))
            for label, url in (("Website", part.website), ("Feed", part.feed_url),
                               ("Original", part.original_url)):
                if url:
                    lines.append(f"{label}: {link(fit(url, 300, escape), url)}")
            if part.status:
                lines.append(f"Status: {fit(part.status, 300, escape)}")
            return ["\n".join(lines)]
        case SourceLine():
            status = f" — {fit(part.status, 200, escape)}" if part.status else ""
            return [f"#{part.source_id} {fit(part.name, limits.TITLE_LINE, escape)} · "
                    f"{escape(part.rating.label)}{status}"]
        case BalanceLine(counts):
            return [f"<i>{escape(balance_text(counts))}</i>"]
    raise TypeError(f"cannot render {part!r}")


def render_telegram(reply: Reply) -> list[str]:
    """HTML messages, each at most 4096 characters, broken only between parts."""
    chunks: list[str] = []
    for part in reply.parts:
        chunks += _chunks(part)
    return pack(chunks, LIMIT)
