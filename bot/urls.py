"""Canonical article URLs, so the same story reached through tracking links is stored once."""

from __future__ import annotations

from urllib.parse import urlsplit

from w3lib.url import canonicalize_url, url_query_cleaner

_TRACKING = ("fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src", "_hsenc", "_hsmi")


def canonical_url(url: str | None) -> str | None:
    """Lower-cased host, sorted query, no fragment, no utm_* or click-id parameters."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    tracking = [key for key, _, _ in (p.partition("=") for p in parts.query.split("&"))
                if key.lower().startswith("utm_") or key.lower() in _TRACKING]
    if tracking:
        url = url_query_cleaner(url, tracking, remove=True, keep_fragments=True)
    canonical = canonicalize_url(url)
    return canonical.rstrip("/") if urlsplit(canonical).path in ("", "/") else canonical
