"""Canonical article URLs, so the same story reached through tracking links is stored once."""

from __future__ import annotations

from urllib.parse import urlsplit

from w3lib.url import canonicalize_url, url_query_cleaner

_TRACKING = ("fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src", "_hsenc", "_hsmi")


def without_tracking(url: str | None) -> str | None:
    """The link as given, less its utm_* and click-id parameters: what is stored and shown, so
    that copies reached through tracking links neither differ nor carry the tracking on."""
    if not url:
        return url
    url = url.strip()
    tracking = [key for key, _, _ in (p.partition("=") for p in urlsplit(url).query.split("&"))
                if key.lower().startswith("utm_") or key.lower() in _TRACKING]
    return url_query_cleaner(url, tracking, remove=True, unique=False, keep_fragments=True) if tracking else url


def canonical_url(url: str | None) -> str | None:
    """Lower-cased host, sorted query, no fragment, no utm_* or click-id parameters."""
    url = without_tracking(url)
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    canonical = canonicalize_url(url)
    return canonical.rstrip("/") if urlsplit(canonical).path in ("", "/") else canonical
