"""Reading the native summary shape, in plain text and in blog-feed HTML."""

from pathlib import Path

import pytest

from bot.model import BiasRating
from bot.summary_format import SummaryFormatError, html_to_text, outlet_name, parse_html, parse_text

DATA = Path(__file__).parent / "data"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "summary-example.txt"


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seed is not beside this checkout")
def test_the_real_seed_file_parses() -> None:
    draft = parse_text(SEED.read_text(encoding="utf-8"))
    assert draft.title.startswith("Russia and North Korea Sign")
    assert len(draft.key_points) == 9
    assert draft.outlet.name == "DW News"
    assert draft.outlet.bias is BiasRating.CENTER
    assert draft.ai_generated
    assert "Leave a Reply" not in draft.lead + " ".join(draft.key_points) + draft.outlet.description


def test_plain_text_parts_are_assigned() -> None:
    draft = parse_text((DATA / "harbour-crane-summary.txt").read_text())
    assert draft.title == "Harbour Authority Approves Electric Cranes for the Eastern Quay"
    assert draft.lead.startswith("The harbour authority of Saltmere voted")
    assert len(draft.key_points) == 4
    assert draft.outlet.name == "Plainview Times"
    assert draft.outlet.bias is BiasRating.LEAN_LEFT
    assert draft.outlet.website == "https://plainviewtimes.example/"
    assert draft.url == "https://plainviewtimes.example/harbour/electric-cranes?utm_source=feed"
    assert draft.ai_generated


def test_html_parts_are_assigned_and_noise_dropped() -> None:
    draft = parse_html((DATA / "korea-rail-summary.html").read_text())
    assert draft.title == "Korea Rail Link Talks Resume After <Two-Year> Pause"
    assert draft.key_points[1] == "No timetable for construction was agreed."
    assert draft.outlet.name == "Ledger Wire"
    assert draft.outlet.bias is BiasRating.LEAN_RIGHT
    assert draft.url == "https://ledgerwire.example/asia/rail-link-talks"
    text = " ".join((draft.lead, *draft.key_points, draft.outlet.description))
    assert "tracking" not in text and "Leave a Reply" not in text


def test_html_title_can_come_from_the_feed() -> None:
    draft = parse_html("<p>Lead here.</p><ul><li>One.</li></ul><p>Acme is an outlet.</p>", title="Feed title",
                       url="https://acme.example/a")
    assert (draft.title, draft.lead, draft.url, draft.outlet.name) == ("Feed title", "Lead here.",
                                                                        "https://acme.example/a", "Acme")


def test_short_lead_mentioning_ai_is_not_taken_for_the_ai_note() -> None:
    draft = parse_text("Title\n\nRegulators fined a studio over AI-generated adverts.\n\n"
                       "• A point.\n\nAcme is an outlet.\n")
    assert draft.lead == "Regulators fined a studio over AI-generated adverts."
    assert not draft.ai_generated


def test_key_point_that_starts_like_page_noise_is_kept() -> None:
    draft = parse_text("Title\n\nLead.\n\n• Share this view: most agree.\n• Second.\n\nAcme is an outlet.\n\n"
                       "AllSides Media Bias Rating: Right\n")
    assert draft.key_points == ("Share this view: most agree.", "Second.")
    assert draft.outlet.bias is BiasRating.RIGHT


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "empty", 1),
        ("• a point first\n", "title", 1),
        ("Title only\n", "no lead", 2),
        ("Title\n\nLead.\n\nAllSides Media Bias Rating: Purple\n", "unknown bias rating", 5),
        ("Title\n\nJust a lead and nothing else.\n", "not a summary", None),
    ],
)
def test_malformed_text_names_the_problem(text: str, message: str, line: int | None) -> None:
    with pytest.raises(SummaryFormatError, match=message) as caught:
        parse_text(text)
    assert caught.value.line == line


def test_html_to_text_drops_scripts_styles_and_comment_forms() -> None:
    text = html_to_text("<style>p{}</style><p>Keep <b>this</b>.</p><script>bad()</script>"
                        "<img src='x' width=1 height=1><p>Leave a Reply</p><p>Your email address</p>")
    assert text == "Keep this."


def test_blog_footers_and_hidden_elements_are_dropped() -> None:
    text = html_to_text("<p>Story text.</p><div style='display: none'>pixel tracker</div><p hidden>secret</p>"
                        "<p>The post Story appeared first on Some Blog.</p><p>More furniture</p>")
    assert text == "Story text."


def test_html_with_a_charset_declaration_or_control_characters_still_reads() -> None:
    declared = "<?xml version='1.0' encoding='iso-8859-1'?><p>Caf\u00e9 prices rise.</p>"
    assert html_to_text(declared) == "Caf\u00e9 prices rise."
    assert html_to_text("<p>Rail\x00 fares\x07 freeze.</p><!-- tracker -->") == "Rail fares freeze."
    assert html_to_text("<!-- nothing but a comment -->") == ""


def test_markup_nested_past_libxml2_s_limit_keeps_what_came_before_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    deep = "<p>Before the trap.</p>" + "<span>" * 300 + "deep" + "</span>" * 300 + "<p>After it.</p>"
    assert html_to_text(deep) == "Before the trap."
    assert "nested more than 255 levels deep" in caplog.text


@pytest.mark.parametrize("blurb, name", [
    ("DW News is a global news programme.", "DW News"),
    ("Meridian Ledger, the capital's business daily, is owned by its staff.", "Meridian Ledger"),
    ("Harbour Courier, founded in 1890, has been the port's paper ever since.", "Harbour Courier"),
])
def test_an_aside_after_the_outlet_name_is_no_part_of_it(blurb: str, name: str) -> None:
    """Each aside made another source of the same outlet."""
    assert outlet_name(blurb, None) == name
