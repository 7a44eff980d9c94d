"""Cutting and packing text so every message fits its platform's limit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, TypeVar

from bot import limits

T = TypeVar("T")

ELLIPSIS = "…"


def rendered_once(render: Callable[[Any], Iterable[T]]) -> Callable[[Any], tuple[T, ...]]:
    """Cache a part renderer: rendering is pure, and a fan-out sends the same digest items to
    thousands of chats, so each distinct part is rendered once."""
    return lru_cache(maxsize=4096)(lambda part: tuple(render(part)))


def text_length(text: str) -> int:
    """Length in UTF-16 code units, the strictest way the platforms count."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """Cut plain text to `limit` on a word boundary, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    if text_length(text) <= limit:
        return text
    if limit < 1:
        return ""
    cut = text[: max(limit - 1, 0)]
    while text_length(cut) > limit - 1:
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + ELLIPSIS


def fit(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """The escaped form of `text`, shortened until the escaped form itself fits `limit`."""
    budget = limit
    while True:
        escaped = escape(shorten(text, budget))
        size = text_length(escaped)
        if size <= limit:
            return escaped
        if budget <= 1:
            return ""
        budget = max(1, min(budget - 1, budget * limit // size))


def web_link(url: str | None, encode: Callable[[str], str] = lambda url: url) -> str | None:
    """`url` as a message carries it (`encode`d for the platform), or None for no link: not a
    web address, or longer than URL_MAX once encoded (an HTML-escaped "&" takes five characters),
    which would blow a message's budget."""
    if url and url.startswith(("http://", "https://")):
        encoded = encode(url)
        if text_length(encoded) <= limits.URL_MAX:
            return encoded
    return None


def pack(chunks: Iterable[str], limit: int, separator: str = "\n\n") -> list[str]:
    """Join chunks into as few messages as fit; a break only ever falls between chunks."""
    messages: list[str] = []
    current = ""
    for chunk in chunks:
        if text_length(chunk) > limit:
            raise ValueError(f"a chunk of {text_length(chunk)} characters cannot fit a {limit} limit")
        candidate = current + separator + chunk if current else chunk
        if text_length(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = chunk
    if current:
        messages.append(current)
    return messages
