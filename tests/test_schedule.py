"""Schedules: parsing what admins type and computing due times across DST changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.model import Schedule
from bot.schedule import ScheduleError, describe, next_due, parse_days, parse_subscribe_words


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def run(schedule: Schedule, start: datetime, count: int) -> list[datetime]:
    out, at = [], start
    for _ in range(count):
        at = next_due(schedule, at)
        out.append(at)
    return out


def test_berlin_spring_forward_fires_once_at_the_shifted_time() -> None:
    daily = Schedule(("02:30", "08:00"), frozenset(range(7)), "Europe/Berlin")
    got = run(daily, utc(2026, 3, 28, 12), 4)
    # 28 Mar 08:00 was before the start; 29 Mar 02:30 CET does not exist -> 03:30 CEST (01:30 UTC)
    assert got == [utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 6), utc(2026, 3, 30, 0, 30), utc(2026, 3, 30, 6)]


def test_berlin_fall_back_fires_once_not_once_per_fold() -> None:
    daily = Schedule(("02:30",), frozenset(range(7)), "Europe/Berlin")
    got = run(daily, utc(2026, 10, 24, 12), 3)
    assert got == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30), utc(2026, 10, 27, 1, 30)]


def test_new_york_both_changes() -> None:
    daily = Schedule(("07:00",), frozenset(range(7)), "America/New_York")
    spring = run(daily, utc(2026, 3, 7, 13), 2)
    assert spring == [utc(2026, 3, 8, 11), utc(2026, 3, 9, 11)]  # EST -> EDT: 12:00 UTC -> 11:00 UTC
    fall = run(daily, utc(2026, 10, 31, 12), 2)
    assert fall == [utc(2026, 11, 1, 12), utc(2026, 11, 2, 12)]
    gap = run(Schedule(("02:15",), frozenset(range(7)), "America/New_York"), utc(2026, 3, 7, 12), 2)
    assert gap == [utc(2026, 3, 8, 7, 15), utc(2026, 3, 9, 6, 15)]  # 02:15 did not exist on 8 Mar


def test_weekday_filter_skips_the_weekend() -> None:
    weekdays = Schedule(("07:30",), parse_days("mon-fri"), "Europe/Berlin")
    got = run(weekdays, utc(2026, 11, 27, 7), 3)  # Friday 08:00 Berlin, after that day's slot
    assert [d.strftime("%a") for d in got] == ["Mon", "Tue", "Wed"]


def test_several_times_a_day_in_order() -> None:
    got = run(Schedule(("18:00", "07:00", "12:30"), frozenset(range(7)), "UTC"), utc(2026, 11, 28, 8), 4)
    assert got == [utc(2026, 11, 28, 12, 30), utc(2026, 11, 28, 18), utc(2026, 11, 29, 7), utc(2026, 11, 29, 12, 30)]


def test_zone_ahead_of_utc_across_midnight() -> None:
    tokyo = Schedule(("06:00",), frozenset({0}), "Asia/Tokyo")  # Mondays 06:00 JST = Sunday 21:00 UTC
    assert next_due(tokyo, utc(2026, 11, 28)) == utc(2026, 11, 29, 21)


@pytest.mark.parametrize(
    ("words", "times", "zone", "days", "target"),
    [
        (["07:30", "Europe/Berlin", "mon-fri"], ("07:30",), "Europe/Berlin", frozenset(range(5)), None),
        (["@channel", "7.30", "18:00", "utc", "weekends"], ("07:30", "18:00"), "UTC", frozenset({5, 6}), "@channel"),
        (["<#123456>", "sat,sun", "mon"], None, None, frozenset({0, 5, 6}), "<#123456>"),
        (["fri-mon"], None, None, frozenset({4, 5, 6, 0}), None),
        (["europe/berlin"], None, "Europe/Berlin", None, None),
        (["07:30,18:00"], ("07:30", "18:00"), None, None, None),
    ],
)
def test_subscribe_words_are_sorted_by_shape(words, times, zone, days, target) -> None:  # noqa: ANN001
    parts = parse_subscribe_words(words)
    assert (parts.times, parts.timezone, parts.days, parts.target) == (times, zone, days, target)


@pytest.mark.parametrize("word", ["24:00", "Mars/Base", "someday", "mon-xyz", "7"])
def test_bad_schedule_words_are_named(word: str) -> None:
    with pytest.raises(ScheduleError, match=word.split("-")[-1]):
        parse_subscribe_words([word])


def test_describe() -> None:
    assert describe(Schedule(("07:30",), frozenset(range(5)), "Europe/Berlin")) == \
        "07:30 on mon,tue,wed,thu,fri (Europe/Berlin)"
    assert describe(Schedule()) == "08:00 every day (UTC)"


def test_a_year_of_daily_slots_has_one_per_day() -> None:
    got = run(Schedule(("02:30",), frozenset(range(7)), "Europe/Berlin"), utc(2026, 1, 1), 365)
    local_days = [d.astimezone(ZoneInfo("Europe/Berlin")).date() for d in got]
    assert len(set(local_days)) == 365
    assert all(b - a <= timedelta(hours=25) for a, b in zip(got, got[1:]))
