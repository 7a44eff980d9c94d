"""Discord: markdown content within 2000 characters and embeds within every embed limit.

Text is escaped so titles cannot format, link or mention: `@everyone`, `<@id>` and `<#id>` stay
inert text even before the adapter's `AllowedMentions.none()`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any

from bot import limits
from bot.model import BiasRating
from bot.render.packing import fit, text_length, web_link
from bot.render.text import balance_text, blind_spot_text, covered_text, outlet_text
from bot.reply import (ArticleCard, BalanceLine, Heading, ItemLine, Notice, Part, Reply, SourceCard,
                       SourceLine)

BIAS_COLOURS = {
    BiasRating.LEFT: 0x1F4E9C,
    BiasRating.LEAN_LEFT: 0x6FA0DC,
    BiasRating.CENTER: 0x8E6BBF,
    BiasRating.LEAN_RIGHT: 0xE07A7A,
    BiasRating.RIGHT: 0xB22222,
    BiasRating.MIXED: 0xA0A0A0,
    BiasRating.UNRATED: 0x5F6368,
}

_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()])")
_LINE_START = re.compile(r"^(\s*)([#-])", re.MULTILINE)
_MENTION = re.compile(r"@(everyone|here)|<(?=[@#:]|/|a:|t:)", re.IGNORECASE)


def escape(text: str) -> str:
    text = _LINE_START.sub(r"\1\\\2", _MARKDOWN.sub(r"\\\1", text))
    return _MENTION.sub(lambda m: "@\u200b" + m.group(1) if m.group(1) else "<\u200b", text)


def _url(url: str | None) -> str | None:
    return web_link(url, lambda url: url.replace(" ", "%20").replace(")", "%29").replace(">", "%3E"))


@dataclass
class DiscordMessage:
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)

    def embeds_length(self) -> int:
        return sum(embed_length(e) for e in self.embeds)


def embed_length(embed: dict[str, Any]) -> int:
    """What Discord counts toward the 6000 total: title, description, fields, footer, author."""
    total = text_length(embed.get("title", "")) + text_length(embed.get("description", ""))
    total += text_length(embed.get("footer", {}).get("text", ""))
    total += text_length(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", []):
        total += text_length(f["name"]) + text_length(f["value"])
    return total


def _embed(title: str, url: str | None, description: str, rating: BiasRating, footer: str,
           fields: list[tuple[str, str]] = ()) -> dict[str, Any]:
    """One embed; field values arrive escaped (or as bare links) and within 1024 characters."""
    embed: dict[str, Any] = {
        "title": fit(title, limits.DISCORD_EMBED_TITLE, escape),
        "description": description,
        "color": BIAS_COLOURS[rating],
        "footer": {"text": fit(footer, limits.DISCORD_EMBED_FOOTER, lambda s: s)},
    }
    if link := _url(url):
        embed["url"] = link
    if fields:
        embed["fields"] = [
            {"name": fit(name, limits.DISCORD_FIELD_NAME, escape), "value": value, "inline": True}
            for name, value in fields[: limits.DISCORD_EMBED_FIELDS]
        ]
    return embed


def _key_points(points: tuple[str, ...], room: int) -> str:
    """As many whole key points as fit in `room`, one per line."""
    lines: list[str] = []
    used = 0
    for point in points:
        line = "• " + fit(point, max(room - used - 3, 1), escape)
        if used + text_length(line) + 1 > room:
            break
        lines.append(line)
        used += text_length(line) + 1
    return "\n".join(lines)


def _render_part(part: Part) -> str | dict[str, Any]:
    """A part becomes content text (str) or one embed (dict)."""
    match part:
        case Notice(text):
            return fit(text, limits.DISCORD_CONTENT, escape)
        case Heading(text):
            return "**" + fit(text, limits.DISCORD_CONTENT - 4, escape) + "**"
        case BalanceLine(counts):
            return "*" + fit(balance_text(counts), limits.DISCORD_CONTENT - 2, escape) + "*"
        case SourceLine():
            status = f" — {part.status}" if part.status else ""
            return fit(f"#{part.source_id} {part.name} · {part.rating.label}{status}", limits.DISCORD_CONTENT, escape)
        case ItemLine():
            lines = [fit(part.lead, limits.LEAD_LINE, escape)]
            if covered := covered_text(part.covered_by, limits.COVERED_LINE - 2, escape):
                lines.append(f"*{covered}*")
            if part.blind_spot:
                lines.append(f"**{escape(blind_spot_text(part.blind_spot))}**")
            return _embed(part.title, part.url, "\n".join(line for line in lines if line), part.rating,
                          f"{outlet_text(part.outlet, part.rating)} · #{part.article_id}")
        case ArticleCard():
            lead = fit(part.lead, 1500, escape)
            points = _key_points(part.key_points, 2500 - text_length(lead))
            footer = f"{outlet_text(part.outlet, part.rating)} · #{part.article_id}"
            if part.published_at:
                footer += f" · {part.published_at:%Y-%m-%d %H:%M} UTC"
            if part.ai_generated:
                footer += " · written by AI"
            return _embed(part.title, part.url, f"{lead}\n\n{points}".strip(), part.rating, footer)
        case SourceCard():
            fields = [("Bias rating (AllSides)", escape(part.rating.label))]
            fields += [(label, link) for label, url in (("Website", part.website), ("Feed", part.feed_url),
                                                      ("Original", part.original_url)) if (link := _url(url))]
            if part.status:
                fields.append(("Status", fit(part.status, limits.DISCORD_FIELD_VALUE, escape)))
            return _embed(part.name, part.website, fit(part.description, 1500, escape), part.rating,
                          f"source #{part.source_id}", fields)
    raise TypeError(f"cannot render {part!r}")


@lru_cache(maxsize=4096)
def _rendered(part: Part) -> tuple[str | dict[str, Any], int]:
    """A part's rendering and its embed length, made once: rendering is pure, and a fan-out sends
    the same digest items to thousands of chats. The embed dicts are shared: read them only."""
    rendered = _render_part(part)
    return rendered, 0 if isinstance(rendered, str) else embed_length(rendered)


def render_discord(reply: Reply) -> list[DiscordMessage]:
    """Messages in reading order: text waits for the next message once embeds have started."""
    messages: list[DiscordMessage] = [DiscordMessage()]
    embeds_total = 0
    for part in reply.parts:
        rendered, length = _rendered(part)
        current = messages[-1]
        if isinstance(rendered, str):
            joined = f"{current.content}\n{rendered}" if current.content else rendered
            if current.embeds or text_length(joined) > limits.DISCORD_CONTENT:
                messages.append(DiscordMessage(content=rendered))
                embeds_total = 0
            else:
                current.content = joined
        else:
            if (len(current.embeds) >= limits.DISCORD_EMBEDS_PER_MESSAGE
                    or embeds_total + length > limits.DISCORD_EMBEDS_TOTAL):
                current = DiscordMessage()
                messages.append(current)
                embeds_total = 0
            current.embeds.append(rendered)
            embeds_total += length
    return [m for m in messages if m.content or m.embeds]
