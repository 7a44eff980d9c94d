"""Story clustering: the same story across outlets joins up as it is stored; different stories stay apart.

Articles come from tests/data/story_articles.jsonl (written for these tests and the benchmark).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

import storage.sqlite
from bot.importer import import_paths
from bot.model import ArticleDraft, BiasRating, OutletInfo
from bot.stories import (_SYNONYMS, BATCH_PEERS, CLOSEST_REPORTS, DOCUMENTS, FEATURES, STORY_THRESHOLD, Fingerprint,
                         Frequencies, file_stories, fingerprint, linked_stories, similarity)
from storage.sqlite import SQLiteRepository
from tests.factories import draft

ROWS = {row["key"]: row for row in map(json.loads, (Path(__file__).parent / "data" / "story_articles.jsonl")
                                       .read_text().splitlines())}


def story_draft(key: str) -> ArticleDraft:
    row = ROWS[key]
    return ArticleDraft(title=row["title"], lead=row["lead"], key_points=tuple(row["key_points"]),
                        outlet=OutletInfo(row["outlet"], bias=BiasRating.parse(row["bias"])),
                        url=f"https://{row['outlet'].lower().replace(' ', '')}.example/{key}",
                        published_at=datetime.fromisoformat(row["published_at"]))


async def store(repo: SQLiteRepository, *keys: str) -> dict[str, int]:
    """Store one at a time, as a feed brings them; each key's story id once all are stored."""
    ids = {key: (await repo.store_articles([story_draft(key)])).new_ids[0] for key in keys}
    return await stories_of(repo, ids)


async def stories_of(repo: SQLiteRepository, ids: dict[str, int]) -> dict[str, int]:
    articles = {article.id: article for article in await repo.articles_by_id(list(ids.values()))}
    return {key: articles[article_id].story for key, article_id in ids.items()}


async def test_three_outlets_reporting_one_story_share_it(repo: SQLiteRepository) -> None:
    stories = await store(repo, "varnholm-rate-1", "varnholm-rate-2", "varnholm-rate-3")
    assert len(set(stories.values())) == 1
    first = await repo.get_article(stories["varnholm-rate-1"])
    assert first is not None and first.title == ROWS["varnholm-rate-1"]["title"]  # named by its first article
    members = await repo.story_articles(None, [stories["varnholm-rate-1"]])
    assert {a.title for a in members} == {ROWS[k]["title"] for k in stories}


@pytest.mark.parametrize("first, second", [
    ("varnholm-rate-1", "kessarine-rate"),  # two central banks hold at 3.75% the same day
    ("aldwick-strike-1", "tamsworth-nurses"),  # near-identical headlines, other people and town
    ("quillon-fine-1", "quillon-phone"),  # same company the same day, other news
    ("fennick-rail-1", "fennick-bus"),  # same town the same morning, other accident
])
async def test_different_stories_that_share_words_stay_apart(repo: SQLiteRepository, first: str,
                                                             second: str) -> None:
    stories = await store(repo, first, second)
    assert stories[first] != stories[second]


async def test_a_late_fourth_article_joins_its_story(repo: SQLiteRepository) -> None:
    stories = await store(repo, "drummel-heat-1", "drummel-heat-2", "fennick-rail-1", "drummel-fire")
    assert stories["drummel-heat-1"] == stories["drummel-heat-2"] != stories["drummel-fire"]
    late = dataclasses.replace(story_draft("drummel-heat-3"), outlet=OutletInfo("Plainview Times"))
    [late_id] = (await repo.store_articles([late])).new_ids
    joined = await repo.get_article(late_id)
    assert joined is not None and joined.story == stories["drummel-heat-1"]
    assert len(await repo.story_articles(None, [joined.story])) == 3


async def test_an_article_bridging_two_accounts_of_one_event_merges_their_stories(repo: SQLiteRepository) -> None:
    """"Dockers walk out" and "stevedores strike" share too few words to meet; a third report
    using both vocabularies shows they are one story, which keeps its first article's id."""
    apart = await store(repo, "aldwick-strike-1", "aldwick-strike-2")
    assert apart["aldwick-strike-1"] != apart["aldwick-strike-2"]
    first_id = apart["aldwick-strike-1"]
    [bridge] = (await repo.store_articles([story_draft("aldwick-strike-3")])).new_ids
    members = await repo.story_articles(None, [first_id])
    assert {a.title for a in members} == {ROWS[k]["title"] for k in ("aldwick-strike-1", "aldwick-strike-2",
                                                                      "aldwick-strike-3")}
    assert {a.story for a in members} == {first_id} and bridge in {a.id for a in members}


async def test_one_batch_clusters_as_the_same_articles_one_by_one(repo: SQLiteRepository,
                                                                  tmp_path: Path) -> None:
    """A feed brings many articles at once; within the batch each is matched against the earlier ones."""
    keys = sorted(ROWS, key=lambda k: ROWS[k]["published_at"])
    one_by_one = await store(repo, *keys)
    batched_repo = await SQLiteRepository.open(tmp_path / "batched.db")
    try:
        result = await batched_repo.store_articles([story_draft(key) for key in keys])
        batched = await stories_of(batched_repo, dict(zip(keys, result.new_ids)))
    finally:
        await batched_repo.close()
    assert batched == one_by_one
    assert len(set(batched.values())) < len(keys) - 10  # the set has many multi-outlet stories


async def test_the_same_words_two_months_later_are_another_story(repo: SQLiteRepository) -> None:
    stories = await store(repo, "varnholm-rate-1", "varnholm-rate-may")
    assert stories["varnholm-rate-1"] != stories["varnholm-rate-may"]


async def test_an_updated_article_keeps_its_story(repo: SQLiteRepository) -> None:
    stories = await store(repo, "ostreva-vote-1", "ostreva-vote-2")
    corrected = dataclasses.replace(story_draft("ostreva-vote-2"), title="A corrected headline about turnout")
    result = await repo.store_articles([corrected])
    assert result.updated == 1
    [article] = [a for a in await repo.story_articles(None, [stories["ostreva-vote-1"]])
                 if a.title == "A corrected headline about turnout"]
    assert article.story == stories["ostreva-vote-1"]


async def test_articles_without_names_are_stories_of_their_own(repo: SQLiteRepository) -> None:
    """The test factory's near-identical summaries name nobody: nothing ties them together."""
    result = await repo.store_articles([draft(n, outlet) for n, outlet in
                                        enumerate(("Harbour Courier", "Ledger Wire", "Plainview Times"), 1)])
    articles = [await repo.get_article(i) for i in result.new_ids]
    assert [a.story for a in articles if a] == result.new_ids


async def test_a_story_is_visible_only_where_its_articles_are(repo: SQLiteRepository) -> None:
    await repo.store_articles([story_draft("lorvane-quake-1")])
    [private] = (await repo.store_articles([story_draft("lorvane-quake-3")], scope="telegram:-100")).new_ids
    article = await repo.get_article(private)
    assert article is not None
    assert len(await repo.story_articles("telegram:-100", [article.story])) == 2
    assert len(await repo.story_articles("telegram:-200", [article.story])) == 1


def test_names_in_the_headline_must_meet_the_other_summary() -> None:
    aldwick = fingerprint(ROWS["aldwick-strike-1"]["title"], ROWS["aldwick-strike-1"]["lead"],
                          tuple(ROWS["aldwick-strike-1"]["key_points"]))
    bremlin = fingerprint(ROWS["bremlin-walkout-1"]["title"], ROWS["bremlin-walkout-1"]["lead"],
                          tuple(ROWS["bremlin-walkout-1"]["key_points"]))
    assert "port aldwick" in aldwick.primary and "bremlin" in bremlin.primary
    assert similarity(aldwick, bremlin, Frequencies({"*": 40})) == 0.0
    assert {"port", "aldwick"} <= aldwick.keys and "7%" in aldwick.figures and "1800" in aldwick.figures


def test_a_country_named_by_most_articles_does_not_tie_stories() -> None:
    one = fingerprint("New bridge opens in Norvania", "A toll bridge opened in Norvania on Monday.", ())
    two = fingerprint("Bridge opens in Norvania after delays", "A toll bridge opened in Norvania at last.", ())
    rare = Frequencies({"*": 100, "name:norvania": 3})
    everywhere = Frequencies({"*": 100, "name:norvania": 80})
    assert similarity(one, two, rare) >= STORY_THRESHOLD
    assert similarity(one, two, everywhere) == 0.0
    assert linked_stories(two, [(7, one)], everywhere) == set()
    assert linked_stories(two, [(7, one)], rare) == {7}


def test_a_report_that_mentions_other_news_does_not_pull_that_news_into_its_story() -> None:
    """The strike story's second report mentions the airline's jet order; the order's own report
    meets that one report well enough, but not the story as a whole, so it stays apart. A report
    of the strike itself still joins."""
    frequencies = Frequencies({"*": 200, "name:corlan": 4, "name:air": 6})
    strike = [fingerprint("Corlan Air pilots strike over rosters",
                          "Pilots at Corlan Air walked out on Monday over new rosters, grounding most flights.", ()),
              fingerprint("Corlan Air strike grounds 200 flights",
                          "Corlan Air cancelled 200 flights on Monday as pilots stayed away, a week after the airline "
                          "ordered 30 jets.", ())]
    order = fingerprint("Corlan Air buys 30 jets in $2bn deal",
                        "The carrier signed for 30 narrow-body aircraft, its largest purchase in a decade.", ())
    walkout = fingerprint("Corlan Air flights grounded by pilots' walkout", "Most Corlan Air flights stayed on the "
                          "ground on Monday as pilots walked out over rosters.", ())
    to_strike = [similarity(order, report, frequencies) for report in strike]
    assert max(to_strike) >= STORY_THRESHOLD > sum(to_strike) / 2  # the example's premise
    assert linked_stories(order, [(7, report) for report in strike], frequencies) == set()
    assert linked_stories(order, [(8, strike[1])], frequencies) == {8}
    assert linked_stories(walkout, [(7, report) for report in strike], frequencies) == {7}


def test_a_long_story_takes_a_report_close_to_a_few_of_its_reports() -> None:
    """Sixteen reports of cancelled flights, then three of the talks: a report of the talks meets
    the talks, not the cancellations, and the story's closest reports are what it is measured by."""
    frequencies = Frequencies({"*": 200, "name:corlan": 9, "name:air": 12})
    cities = ("Lisbon", "Oslo", "Tallinn", "Valletta", "Porto", "Bergen", "Riga", "Gdansk", "Malmo", "Turku", "Split",
              "Varna", "Cork", "Bari", "Nantes", "Graz")
    story = [fingerprint(f"Corlan Air cancels its {city} flights",
                         f"Corlan Air passengers for {city} were rebooked onto other airlines on Monday.", ())
             for city in cities]
    story += [fingerprint(title, lead, ()) for title, lead in (
        ("Corlan Air and pilots agree to talks with a mediator",
         "Corlan Air and its pilots' union will meet a mediator on Wednesday to end the strike."),
        ("Mediator to chair Corlan Air pilot talks",
         "A government mediator will chair talks between Corlan Air and the pilots' union on Wednesday."),
        ("Corlan Air strike talks open under mediator",
         "Talks between Corlan Air and striking pilots opened on Wednesday under a mediator."))]
    talks = fingerprint("Corlan Air talks with pilots go on late into the night", "Mediated talks between Corlan Air "
                        "and its pilots' union went on late into Wednesday night.", ())
    scores = sorted((similarity(talks, report, frequencies) for report in story), reverse=True)
    assert sum(scores) / len(scores) < STORY_THRESHOLD <= sum(scores[:CLOSEST_REPORTS]) / CLOSEST_REPORTS  # premise
    assert linked_stories(talks, [(7, report) for report in story], frequencies) == {7}


def test_in_a_big_batch_a_report_still_meets_its_story_past_news_of_other_months() -> None:
    """An undated-order import: between two reports of one story come 300 articles naming the same
    places months later. The batch looks at the articles nearest in time per name word, so those
    do not crowd the first report out (they did when it looked at the latest in the batch)."""
    def story_print(key: str) -> Fingerprint:
        row = ROWS[key]
        return fingerprint(row["title"], row["lead"], tuple(row["key_points"]))

    later = 90 * 24 * 3600
    fillers = [(100 + n, later + 60 * n, fingerprint(f"Varnholm council vote {n} on the harbour budget",
                                                      f"Varnholm's council voted on part {n} of the budget.", ()))
               for n in range(300)]
    batch = [(1, 0, story_print("varnholm-rate-1")), *fillers, (2, 3600, story_print("varnholm-rate-2"))]
    stories, _ = file_stories(batch, [[] for _ in batch], {DOCUMENTS: 100_000})
    assert stories[-1] == stories[0] == 1 and len(fillers) > BATCH_PEERS


def test_in_a_young_store_one_story_s_own_name_still_ties_its_reports() -> None:
    """Four of a new bot's first seven articles are on the strike: Port Aldwick is in most of them,
    yet it is the story's name, not a country every article mentions."""
    young = Frequencies({"*": 7, "name:aldwick": 4, "name:port": 5})
    first, fourth = (fingerprint(ROWS[k]["title"], ROWS[k]["lead"], tuple(ROWS[k]["key_points"]))
                     for k in ("aldwick-strike-1", "aldwick-strike-4"))
    assert young.rare("port aldwick")
    assert similarity(fourth, first, young) > 0.0


def test_outlets_words_for_one_thing_count_as_one_word() -> None:
    """WordNet's synonyms share a feature: one outlet's "stevedores" are another's "dockers"."""
    def terms(title: str, lead: str) -> set[str]:
        return set(fingerprint(title, lead, ()).terms)

    assert terms("Dockers stop work at Tolbrook", "Dockers walked off the quay.") == \
        terms("Stevedores stop work at Tolbrook", "Stevedores walked off the quay.")
    assert terms("Quake shakes Tolbrook", "The quake toppled a chimney.") == \
        terms("Earthquake shakes Tolbrook", "The earthquake toppled a chimney.")
    assert terms("Dockers stop work at Tolbrook", "") != terms("Bakers stop work at Tolbrook", "")


def test_a_word_used_mostly_as_another_part_of_speech_keeps_its_meaning() -> None:
    """"Even" has a noun sense, evening, but is nearly always an adverb: it must not meet "evening"."""
    even = set(fingerprint("Prices even out at Tolbrook", "", ()).terms)
    evening = set(fingerprint("Prices evening out at Tolbrook", "", ()).terms)
    assert even != evening


async def test_the_bundled_samples_keep_their_events_apart(repo: SQLiteRepository) -> None:
    """The samples as `newsdigest import` stores them: no story holds two events
    (tests/data/sample_stories.json), and the four outlets on the Saltmere strike share one."""
    labels = json.loads((Path(__file__).parent / "data" / "sample_stories.json").read_text())
    events = {url: event for url, event in labels.items() if not url.startswith("_")}
    await import_paths(repo, [Path(__file__).parent.parent / "bot" / "samples"])
    stories: dict[int, set[str]] = {}
    for article in await repo.latest_articles(None, 1000):
        stories.setdefault(article.story, set()).add(events[article.url])
    assert all(len(found) == 1 for found in stories.values()), stories
    assert [found for found in stories.values() if found == {"saltmere-strike"}] == [{"saltmere-strike"}]


def test_a_unit_after_a_figure_is_not_a_name() -> None:
    """The C of 44.6C made heat reports from anywhere pass the name check as if they named one place."""
    print_ = fingerprint("Valley sets heat record at 44.6C", "Temperatures in Drummel reached 44.6C on Friday.", ())
    assert "c" not in print_.names and "drummel" in print_.names and "44.6" in print_.figures
    fined = fingerprint("Regulators fine X over leaks", "Regulators fined X and Tolbrook Bank on Friday.", ())
    assert "x" in fined.names  # a lone letter elsewhere is a name


def test_the_synonym_table_keeps_the_rules_it_was_built_by() -> None:
    """bot/data/synonyms.tsv as build_synonyms.py writes it, and all of it read."""
    lines = (Path(__file__).parent.parent / "bot" / "data" / "synonyms.tsv").read_text().splitlines()
    assert lines[0].startswith("# ") and "snowballstemmer" in lines[0]
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 2 and len(row[0]) > 3 and row[1].startswith("sense:") for row in rows)
    shared = Counter(sense for _, sense in rows)
    assert min(shared.values()) >= 2  # a sense only one stem has would change nothing
    assert _SYNONYMS == dict(rows)


def story_terms(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT term, df FROM story_terms"))


def tamper(path: Path, features: str | None) -> None:
    """Counts no fresh count would give; and, unless None, another build's FEATURES."""
    with sqlite3.connect(path) as db:
        db.execute("UPDATE story_terms SET df = 999")
        if features is not None:
            db.execute("UPDATE story_features SET features = ?", (features,))


async def test_story_word_counts_made_by_a_build_that_read_words_differently_are_made_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.sqlite, "RECOUNT_BATCH", 2)  # three articles: two batches
    path = tmp_path / "upgraded.db"
    repo = await SQLiteRepository.open(path)
    await repo.store_articles([story_draft(key) for key in ("aldwick-strike-1", "aldwick-strike-2", "corvan-pill")])
    await repo.close()
    fresh = story_terms(path)
    assert fresh[DOCUMENTS] == 3 and set(fresh.values()) <= {1, 2, 3}
    tamper(path, features="1/00000000")
    await (await SQLiteRepository.open(path)).close()
    assert story_terms(path) == fresh
    tamper(path, features=None)  # counted under this build's FEATURES: left as they are
    await (await SQLiteRepository.open(path)).close()
    assert set((story_terms(path)).values()) == {999}
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT features FROM story_features").fetchall() == [(FEATURES,)]
