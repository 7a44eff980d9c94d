"""The bundled sample summaries in bot/samples all read cleanly and cover what the bot needs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.importer import SUPPORTED, read_file
from bot.model import ArticleDraft, BiasRating

SAMPLES = Path(__file__).resolve().parent.parent / "bot" / "samples"

OUTLETS = {
    "Meridian Ledger": BiasRating.CENTER,
    "Northgate Observer": BiasRating.CENTER,
    "Pacific Rim Dispatch": BiasRating.CENTER,
    "Tidewater Tribune": BiasRating.LEAN_LEFT,
    "Civic Pulse": BiasRating.LEFT,
    "Granite Standard": BiasRating.LEAN_RIGHT,
    "Frontier Sentinel": BiasRating.RIGHT,
    "Open Channel News": BiasRating.MIXED,
}

FILES = sorted(p for p in SAMPLES.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED)


def _host(url: str | None) -> str:
    return (urlparse(url or "").hostname or "").lower()


def _read(path: Path) -> ArticleDraft:
    drafts = read_file(path)
    assert len(drafts) == 1, f"{path.name}: expected one summary, got {len(drafts)}"
    return drafts[0]


@pytest.fixture(scope="module")
def drafts() -> dict[str, ArticleDraft]:
    return {path.name: _read(path) for path in FILES}


def test_samples_folder_has_only_supported_files() -> None:
    others = [p.name for p in SAMPLES.iterdir() if p.is_file() and p.suffix.lower() not in SUPPORTED]
    assert others == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_sample_parses(path: Path) -> None:
    draft = _read(path)
    assert draft.title.strip(), "empty title"
    assert draft.lead.strip(), "empty lead"
    assert len(draft.key_points) >= 3
    assert all(point.strip() for point in draft.key_points)
    assert draft.outlet.name in OUTLETS, f"unexpected outlet {draft.outlet.name!r}"
    assert draft.outlet.bias is not BiasRating.UNRATED
    assert draft.outlet.bias is OUTLETS[draft.outlet.name]
    assert draft.url is not None and draft.url.startswith("https://")
    assert _host(draft.url).endswith(".example")
    assert draft.outlet.website is not None and _host(draft.outlet.website).endswith(".example")
    assert draft.published_at is not None
    assert draft.published_at.tzinfo is not None
    # page noise after the summary must not leak into any part of it
    for text in (draft.lead, draft.outlet.description, *draft.key_points):
        assert "Leave a Reply" not in text and "Required fields" not in text


def test_sample_set_coverage(drafts: dict[str, ArticleDraft]) -> None:
    assert len(drafts) >= 24
    outlets = {d.outlet.name for d in drafts.values()}
    assert len(outlets) >= 7
    ratings = {d.outlet.bias for d in drafts.values()}
    assert ratings == set(BiasRating) - {BiasRating.UNRATED}
    centre = {d.outlet.name for d in drafts.values() if d.outlet.bias is BiasRating.CENTER}
    assert len(centre) >= 2
    korea = [name for name, d in drafts.items()
             if "korea" in " ".join((d.title, d.lead, *d.key_points)).lower()]
    assert len(korea) >= 2
    assert sum(1 for name in drafts if name.endswith(".html")) >= 2
    assert sum(1 for d in drafts.values() if not d.ai_generated) >= 3
    assert sum(1 for d in drafts.values() if d.ai_generated) >= 20


def test_each_outlet_is_described_consistently(drafts: dict[str, ArticleDraft]) -> None:
    seen: dict[str, tuple[str, str | None, BiasRating]] = {}
    for name, draft in drafts.items():
        info = (draft.outlet.description, draft.outlet.website, draft.outlet.bias)
        first = seen.setdefault(draft.outlet.name, info)
        assert info == first, f"{name}: {draft.outlet.name} is described differently elsewhere"
        assert _host(draft.url) == _host(draft.outlet.website), f"{name}: link leaves the outlet's site"


def test_html_escaping_is_undone() -> None:
    draft = _read(SAMPLES / "24-trade-tariffs-steel-duties.html")
    assert draft.title.startswith("Trade & Tariffs:")
    assert "&amp;" not in draft.title
