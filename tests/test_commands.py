"""Every command through the console adapter: happy path, bad arguments, refusals."""

from datetime import UTC, datetime

import pytest

from adapters.console import ConsoleAdapter
from bot.commands import Request
from bot.core import Core, bind_args, parse_command_line
from bot.model import ChatRef, UserRef
from storage.sqlite import SQLiteRepository
from tests.conftest import DenyAll, console_request
from tests.factories import draft

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


@pytest.fixture
async def console(core: Core, repo: SQLiteRepository) -> ConsoleAdapter:
    await repo.store_articles([
        draft(1, "Harbour Courier", title="Korea and Japan agree on ferry link"),
        draft(2, "Ledger Wire", title="Grain prices <b>fall</b> & @everyone panics"),
        draft(3, "Plainview Times", title="Harbour cranes go electric"),
    ])
    core.clock = lambda: NOW
    return ConsoleAdapter(core)


async def ask(console: ConsoleAdapter, line: str) -> str:
    return "\n".join(await console.ask(line))


async def test_help_lists_every_command(console: ConsoleAdapter) -> None:
    text = await ask(console, "/help")
    for name in ("/latest", "/article", "/source", "/sources", "/search", "/digest", "/subscribe", "/settings"):
        assert name in text
    assert await ask(console, "/start") == text


async def test_latest(console: ConsoleAdapter) -> None:
    text = await ask(console, "/latest")
    assert text.index("[3]") < text.index("[2]") < text.index("[1]")  # newest first
    assert "Outlets by rating: Lean Left 1 · Center 1 · Lean Right 1" in text
    assert (await ask(console, "/latest 1")).count("[") == 1
    for bad in ("/latest 0", "/latest 26", "/latest many", "/latest 1 2"):
        assert "Usage: /latest [count]" in await ask(console, bad)


async def test_article(console: ConsoleAdapter) -> None:
    text = await ask(console, "/article 2")
    assert "Grain prices <b>fall</b> & @everyone panics" in text and "Second point of 2." in text
    assert "written by AI" in text
    assert "Usage: /article <id>" in await ask(console, "/article")
    assert "Usage: /article <id>" in await ask(console, "/article two")
    assert "No article #99" in await ask(console, "/article 99")


@pytest.mark.parametrize("line, usage", [
    ("/article 99999999999999999999", "Usage: /article <id>"),  # too big for SQLite: OverflowError
    ("/story 9223372036854775808", "Usage: /story <id>"),
    ("/article ²", "Usage: /article <id>"),  # a digit to str.isdigit, not to int()
    ("/source ²", "No outlet named '²'"),
    ("/latest ²", "Usage: /latest [count]"),
    ("/latest 99999999999999999999", "Usage: /latest [count]"),
    ("/source 99999999999999999999", "No outlet named '99999999999999999999'"),
])
async def test_numbers_no_id_can_be_get_a_plain_answer(console: ConsoleAdapter, line: str, usage: str) -> None:
    """They used to fail "on our side", with a traceback in the log."""
    answer = await ask(console, line)
    assert usage in answer and "failed on our side" not in answer


async def test_source_by_article_and_by_name(console: ConsoleAdapter) -> None:
    by_article = await ask(console, "/source 1")
    assert "Harbour Courier" in by_article and "Lean Left" in by_article
    assert "Original: https://harbourcourier.example/story/1" in by_article
    assert "Ledger Wire" in await ask(console, "/source ledger wire")
    assert "No outlet named 'Nobody'" in await ask(console, "/source Nobody")
    assert "Usage: /source <article id | outlet>" in await ask(console, "/source")


async def test_sources(console: ConsoleAdapter) -> None:
    text = await ask(console, "/sources")
    assert "3 sources" in text and "Plainview Times · Center" in text


async def test_search(console: ConsoleAdapter) -> None:
    assert "Korea and Japan agree" in await ask(console, "/search korea")
    assert "Nothing found for 'volcano'" in await ask(console, "/search volcano")
    assert "Usage: /search <words>" in await ask(console, "/search")
    assert "Usage: /search <words>" in await ask(console, '/search "" **')


async def test_digest_preview(console: ConsoleAdapter) -> None:
    text = await ask(console, "/digest")
    assert "preview" in text and "[1]" in text and "[3]" in text


async def test_an_empty_preview_of_a_digest_never_sent_does_not_speak_of_the_last_one(
        console: ConsoleAdapter) -> None:
    await ask(console, "/subscribe 07:30")
    await ask(console, "/settings include volcano")
    assert (await ask(console, "/digest")).startswith("Nothing to show: no stored summary fits this digest's settings.")


async def test_unknown_command_and_plain_words(console: ConsoleAdapter) -> None:
    assert "Unknown command /frobnicate" in await ask(console, "/frobnicate now")
    assert "Unknown command" in await ask(console, "/" + "x" * 500)


async def test_subscribe_show_change_and_unsubscribe(console: ConsoleAdapter) -> None:
    text = await ask(console, "/subscribe 07:30 Europe/Berlin mon-fri")
    assert "Subscribed: this chat gets a digest at 07:30 on mon,tue,wed,thu,fri (Europe/Berlin)" in text
    assert "Next digest: Mon 30 Nov 2026 07:30 Europe/Berlin." in text  # 28 Nov 2026 is a Saturday
    assert "Updated" in await ask(console, "/subscribe 06:00 18:00")
    settings = await ask(console, "/settings")
    assert "06:00, 18:00 on mon,tue,wed,thu,fri (Europe/Berlin)" in settings and "items 8" in settings
    assert "items 12" in await ask(console, "/settings items 12")
    assert "include war, grain prices" in await ask(console, "/settings include war, grain prices")
    assert "balanced on" in await ask(console, "/settings balanced on")
    assert "sources 2" in await ask(console, "/settings sources Ledger Wire")
    assert "takes a whole number from 1 to 25" in await ask(console, "/settings items 99")
    assert "takes on or off" in await ask(console, "/settings quiet maybe")
    assert "unknown setting 'colour'" in (await ask(console, "/settings colour blue")).lower()
    assert "Unsubscribed" in await ask(console, "/unsubscribe")
    assert "has no digest subscription" in await ask(console, "/unsubscribe")
    assert "has no digest subscription" in await ask(console, "/settings")


@pytest.mark.parametrize("words", ["25:00", "07:30 Mars/Base", "07:30 someday", "1 2 3 4 5 6 7:00"])
async def test_subscribe_bad_arguments(console: ConsoleAdapter, words: str) -> None:
    assert "Usage: /subscribe" in await ask(console, f"/subscribe {words}")


async def test_removing_a_source_takes_it_out_of_digest_filters(console: ConsoleAdapter,
                                                                 repo: SQLiteRepository) -> None:
    """A filter naming a removed source used to keep its id, and the digest went quietly empty."""
    await ask(console, "/subscribe 07:30")
    assert "sources 2" in await ask(console, "/settings sources Ledger Wire")
    removed = await ask(console, "/removesource Ledger Wire")
    assert removed.startswith("Removed source #2 Ledger Wire and its stored summaries. 1 digest named it")
    [subscription] = await repo.upcoming_subscriptions(5)
    assert subscription.options.sources == ()
    assert "Removed source #3" in await ask(console, "/removesource Plainview Times")  # named by no filter
    assert "digest" not in await ask(console, "/removesource Harbour Courier")


async def test_counts_are_said_in_the_singular_for_one(console: ConsoleAdapter) -> None:
    await ask(console, "/removesource Ledger Wire")
    await ask(console, "/removesource Plainview Times")
    assert (await ask(console, "/sources")).startswith("1 source\n")


async def test_an_error_quotes_what_was_typed_as_it_was_typed(console: ConsoleAdapter) -> None:
    answer = await ask(console, "/subscribe 07:30 Mars/Base")
    assert answer.startswith("'Mars/Base' is not a time zone; use an IANA name such as Europe/Berlin.")
    assert (await ask(console, "/unsubscribe @night-Desk")).startswith("Night-Desk has no digest subscription")


async def test_subscribe_another_chat(console: ConsoleAdapter, repo: SQLiteRepository) -> None:
    assert "Subscribed: news-room gets a digest" in await ask(console, "/subscribe @news-room 09:00")
    assert await repo.get_subscription(ChatRef("console", "news-room")) is not None


async def test_non_admins_are_refused_and_nothing_changes(core: Core, repo: SQLiteRepository) -> None:
    member = console_request(admin=False, platform="telegram", chat_id="-5")
    reply = await core.handle_text(member, "/subscribe 07:00")
    assert reply.text == "Sorry, only this chat's admins can use /subscribe."
    assert await repo.get_subscription(member.chat) is None
    admin = console_request(admin=True, platform="telegram", chat_id="-5")
    await core.handle_text(admin, "/subscribe 07:00")
    refused = await core.handle_text(member, "/settings items 3")
    assert "only this chat's admins" in refused.text
    assert (await repo.get_subscription(member.chat)).options.items == 8
    assert "Digest settings" in "".join(str(p) for p in (await core.handle_text(member, "/settings")).parts)


async def test_operators_pass_admin_checks(core: Core) -> None:
    operator = Request(ChatRef("telegram", "-5"), UserRef("telegram", "1"), DenyAll())
    reply = await core.handle_text(operator, "/subscribe 07:00")
    assert reply.text.startswith("Subscribed")


async def test_a_failing_handler_gets_an_apology_and_the_bot_goes_on(core: Core, console: ConsoleAdapter) -> None:
    async def broken(*args: object) -> list:
        raise RuntimeError("disk on fire")

    core.repo.latest_articles = broken  # type: ignore[method-assign]
    assert "Sorry, /latest failed on our side" in await ask(console, "/latest")
    assert "Korea" in await ask(console, "/search korea")


def test_command_lines_addressed_to_another_bot_are_ignored() -> None:
    assert parse_command_line("/latest@NewsDigestBot 3", "newsdigestbot") == ("latest", ["3"])
    assert parse_command_line("/latest@OtherBot 3", "newsdigestbot") is None
    assert parse_command_line("hello there") is None
    assert parse_command_line('/search "unbalanced') == ("search", ['"unbalanced'])


def test_any_whitespace_ends_the_command_as_on_telegram() -> None:
    """'/latest\\n2' was the unknown command 'latest\\n2'; with @bot before the newline, no answer at all."""
    for line in ("/latest\n2", "/latest\t2", "/latest@NewsDigestBot\n2"):
        assert parse_command_line(line, "newsdigestbot") == ("latest", ["2"])


async def test_help_names_one_command_and_start_takes_a_deep_link_payload(console: ConsoleAdapter) -> None:
    """Telegram sends '/start <payload>' from a t.me/<bot>?start= link: it got 'Too many arguments'."""
    assert await ask(console, "/start ref_campaign42") == await ask(console, "/help")
    assert (await ask(console, "/help subscribe")).startswith("/subscribe [chat] [time] [timezone] [days] — ")
    assert await ask(console, "/help /latest") == await ask(console, "/help latest")


def test_text_parameter_takes_the_middle_and_choices_take_two_words() -> None:
    from bot.commands import CommandSpec, Param

    async def noop(*_: object) -> None: ...

    spec = CommandSpec("setbias", "", (Param("source", "", kind="text"),
                                       Param("rating", "", choices=("lean left", "left"))), noop)
    assert bind_args(spec, ["DW", "News", "lean", "left"]) == {"source": "DW News", "rating": "lean left"}
    assert bind_args(spec, ["Daily", "left"]) == {"source": "Daily", "rating": "left"}
