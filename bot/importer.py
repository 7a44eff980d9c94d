"""`newsdigest import`: summary files into the store, all or nothing.

Every file is read and checked before anything is written, then everything is stored in one
transaction, so a bad file anywhere leaves the database exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tqdm import tqdm

from bot.model import PUBLISHED_RANGE, ArticleDraft, BiasRating, OutletInfo, plausible_time
from bot.summary_format import SummaryFormatError, parse_html, parse_text
from storage.repository import Repository, StoreResult

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES


class SummaryImportError(ValueError):
    """Names the file and, where it can, the line."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


class OutletRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    website: str | None = None
    bias: BiasRating = BiasRating.UNRATED

    @field_validator("bias", mode="before")
    @classmethod
    def _rating(cls, value: object) -> object:
        return BiasRating.parse(value) if isinstance(value, str) else value


class SummaryRecord(BaseModel):
    """The JSON form of one summary, as `newsdigest import` reads it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # "   " is no title
    title: str = Field(min_length=1, max_length=500)
    lead: str = Field(min_length=1, max_length=4000)
    key_points: list[str] = Field(default_factory=list, max_length=30)
    outlet: OutletRecord
    url: str | None = None
    published_at: datetime | None = None
    ai_generated: bool = False
    guid: str | None = None

    @field_validator("published_at")
    @classmethod
    def _utc_and_plausible(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is UTC; one no summary can have is refused."""
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        if not plausible_time(value):
            raise ValueError(f"must be from {PUBLISHED_RANGE[0].year} to {PUBLISHED_RANGE[1].year - 1}")
        return value

    def draft(self) -> ArticleDraft:
        return ArticleDraft(
            title=self.title, lead=self.lead,
            outlet=OutletInfo(self.outlet.name, self.outlet.description, self.outlet.website, self.outlet.bias),
            key_points=tuple(point for point in self.key_points if point), url=self.url,
            published_at=self.published_at, ai_generated=self.ai_generated, guid=self.guid,
        )


def _record(path: Path, line: int | None, data: object, item: int | None = None) -> ArticleDraft:
    """One summary; `item` numbers it within a JSON list, which has no line per summary."""
    try:
        return SummaryRecord.model_validate(data).draft()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "summary"
        message = first["msg"].removeprefix("Value error, ")  # pydantic's word for a validator's refusal
        where = f"item {item}, " if item else ""
        raise SummaryImportError(path, f"{where}{field}: {message}", line) from None


def _json_lines(path: Path, text: str) -> Iterator[ArticleDraft]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SummaryImportError(path, f"not JSON ({exc.msg})", number) from None
        yield _record(path, number, data)


def read_file(path: Path) -> list[ArticleDraft]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise SummaryImportError(path, f"unsupported file type {suffix or '(none)'}; use "
                                 + ", ".join(sorted(SUPPORTED)))
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is no part of the title
    except UnicodeDecodeError:
        raise SummaryImportError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise SummaryImportError(path, exc.strerror or str(exc)) from None
    try:
        if suffix in TEXT_SUFFIXES:
            return [parse_text(text)]
        if suffix in HTML_SUFFIXES:
            return [parse_html(text)]
    except SummaryFormatError as exc:
        raise SummaryImportError(path, str(exc), exc.line) from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SummaryImportError(path, f"not JSON ({exc.msg})", exc.lineno) from None
        if not isinstance(data, list):
            return [_record(path, None, data)]
        return [_record(path, None, item, number) for number, item in enumerate(data, 1)]
    return list(_json_lines(path, text))


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files named, and the supported files inside folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED)
        elif path.exists():
            found.append(path)
        else:
            raise SummaryImportError(path, "no such file or folder")
    return found


def read_all(paths: Sequence[Path], progress: bool = False) -> list[ArticleDraft]:
    files = expand(paths)
    drafts: list[ArticleDraft] = []
    for path in tqdm(files, desc="reading", unit="file", disable=not progress or len(files) < 20):
        drafts += read_file(path)
    return drafts


async def import_paths(repo: Repository, paths: Sequence[Path], scope: str | None = None,
                       progress: bool = False) -> StoreResult:
    """Read everything first; store only when every file is good."""
    drafts = read_all(paths, progress)
    return await repo.store_articles(drafts, scope)
