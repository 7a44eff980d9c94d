"""Refuse XML that declares entities, before any XML parser sees it.

Feeds and OPML files never need their own entities, and entity declarations are how
billion-laughs (exponential expansion) and external-entity (file or URL inclusion) attacks
work. Rejecting them outright is cheaper and clearer than trusting every parser downstream
to be configured safely.
"""

from __future__ import annotations

import codecs
import re

ENTITY_REASON = "entity declarations are not allowed"

_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NUL_PATTERNS = (  # '<' or '<?' of a document without a BOM, in wide encodings
    (b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"),
)


def declares_entities(data: bytes) -> bool:
    """True if the document has a DOCTYPE and an ENTITY declaration.

    The whole document is searched, so padding cannot push the declarations out of view, and
    it is also read in its wide or declared encoding, so the markers cannot hide in UTF-16 or
    UTF-7. An "<!ENTITY" that is only text inside CDATA also counts; feeds do not do that.
    """
    return any("<!doctype" in text and "<!entity" in text for text in _readings(data))


def _readings(data: bytes) -> list[str]:
    readings = [data.decode("latin-1").lower()]  # every ASCII-compatible encoding
    encoding = _wide_encoding(data) or _declared_encoding(data)
    if encoding:
        try:
            readings.append(data.decode(encoding, errors="replace").lower())
        except LookupError:
            pass  # an encoding Python does not know, so no parser here can use it either
    return readings


def _wide_encoding(data: bytes) -> str | None:
    for marker, encoding in _BOMS + _NUL_PATTERNS:
        if data.startswith(marker):
            return encoding
    return None


def _declared_encoding(data: bytes) -> str | None:
    match = _DECLARED.match(data[:200])
    return match.group(1).decode("ascii") if match else None
