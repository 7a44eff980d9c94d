"""`newsdigest import`: every supported format, clear errors, nothing half-imported."""

from pathlib import Path

import pytest

from bot.importer import SummaryImportError, import_paths, read_file
from bot.model import BiasRating
from storage.sqlite import SQLiteRepository

DATA = Path(__file__).parent / "data"


async def test_a_folder_of_mixed_formats_imports(repo: SQLiteRepository) -> None:
    result = await import_paths(repo, [DATA / "harbour-crane-summary.txt", DATA / "korea-rail-summary.html",
                                       DATA / "summaries.jsonl"])
    assert result.new == 4
    titles = {a.title for a in await repo.latest_articles(None, 10)}
    assert "Ferry Fares Frozen for Another Year" in titles
    standard = await repo.find_source("Frontier Standard", None)
    assert standard is not None and standard.bias is BiasRating.RIGHT


async def test_importing_twice_stores_nothing_new(repo: SQLiteRepository) -> None:
    await import_paths(repo, [DATA / "summaries.jsonl"])
    again = await import_paths(repo, [DATA / "summaries.jsonl"])
    assert (again.new, again.unchanged) == (0, 2)


def test_json_dates_without_zone_are_utc() -> None:
    ferry = read_file(DATA / "summaries.jsonl")[1]
    assert ferry.published_at is not None and ferry.published_at.utcoffset().total_seconds() == 0


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "two.json"
    path.write_text('[{"title": "A", "lead": "L", "outlet": {"name": "O", "bias": "LL"}},'
                    ' {"title": "B", "lead": "L", "outlet": {"name": "O"}}]')
    drafts = read_file(path)
    assert [d.outlet.bias for d in drafts] == [BiasRating.LEAN_LEFT, BiasRating.UNRATED]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing-lead.jsonl", None, r"bad-missing-lead.jsonl:2: lead: Field required"),
        ("title-only.txt", None, r"bad-title-only.txt:2: no lead paragraph"),
        ("broken.json", '{"title": ', r"broken.json:1: not JSON"),
        ("extra.jsonl", '{"title": "T", "lead": "L", "outlet": {"name": "O"}, "colour": 1}',
         r"extra.jsonl:1: colour: Extra inputs"),
        ("rating.jsonl", '{"title": "T", "lead": "L", "outlet": {"name": "O", "bias": "purple"}}',
         r"rating.jsonl:1: outlet.bias"),
        ("latin1.txt", b"T\xe9\n\nlead\n", r"latin1.txt: not UTF-8"),
        ("notes.docx", "x", r"notes.docx: unsupported file type .docx"),
        ("far.jsonl", '{"title": "T", "lead": "L", "outlet": {"name": "O"}, "published_at": "9999-12-31T23:59-12:00"}',
         r"far.jsonl:1: published_at: must be from 1970 to 2099"),  # stored, it broke /latest for everyone
        ("early.jsonl", '{"title": "T", "lead": "L", "outlet": {"name": "O"}, '
                        '"published_at": "0001-01-01T00:00+05:00"}',
         r"early.jsonl:1: published_at: must be from 1970 to 2099"),
        ("list.json", '[{"title": "T", "lead": "L", "outlet": {"name": "O"}}, {"title": "", "lead": "L", '
                      '"outlet": {"name": "O"}}]', r"list.json: item 2, title: String should have at least 1"),
        ("blank.jsonl", '{"title": "   ", "lead": "L", "outlet": {"name": "O"}}',
         r"blank.jsonl:1: title: String should have at least 1"),  # stored, it showed as "[1]" and nothing
        ("nameless.jsonl", '{"title": "T", "lead": "L", "outlet": {"name": " "}}',
         r"nameless.jsonl:1: outlet.name: String should have at least 1"),
    ],
)
async def test_bad_files_name_file_and_line_and_import_nothing(
    repo: SQLiteRepository, tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    if content is None:
        path = DATA / "bad" / f"bad-{name}"
    else:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SummaryImportError, match=message):
        await import_paths(repo, [DATA / "summaries.jsonl", path])  # the good file comes first
    assert await repo.max_article_id() == 0


@pytest.mark.parametrize("name, content, title", [
    ("bom.txt", (DATA / "harbour-crane-summary.txt").read_text(),
     "Harbour Authority Approves Electric Cranes for the Eastern Quay"),
    ("bom.jsonl", '{"title": "Harbour cranes go electric", "lead": "L", "outlet": {"name": "O"}}\n',
     "Harbour cranes go electric"),
])
def test_a_byte_order_mark_is_no_part_of_the_summary(tmp_path: Path, name: str, content: str, title: str) -> None:
    """Windows editors start UTF-8 files with one: it ended up in the title, or JSON refused it."""
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + content.encode())
    [summary] = read_file(path)
    assert summary.title == title


async def test_a_missing_path_is_named(repo: SQLiteRepository, tmp_path: Path) -> None:
    with pytest.raises(SummaryImportError, match="no such file"):
        await import_paths(repo, [tmp_path / "nope.txt"])


@pytest.mark.parametrize("typed, rating", [("Centre", BiasRating.CENTER), ("Left-Center", BiasRating.LEAN_LEFT),
                                           ("center right", BiasRating.LEAN_RIGHT), ("Not rated", BiasRating.UNRATED),
                                           ("LR", BiasRating.LEAN_RIGHT)])
def test_ratings_are_read_as_people_spell_them(tmp_path: Path, typed: str, rating: BiasRating) -> None:
    """British spelling and other scales' words for the same places were refused."""
    path = tmp_path / "rated.jsonl"
    path.write_text(f'{{"title": "T", "lead": "L", "outlet": {{"name": "O", "bias": "{typed}"}}}}\n')
    [summary] = read_file(path)
    assert summary.outlet.bias is rating
