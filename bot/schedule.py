"""Digest schedules: reading what people type, and computing the next due time.

The next due time is computed here with zoneinfo rather than with APScheduler's CronTrigger:
measured on APScheduler 3.11, CronTrigger fires a 02:30 Europe/Berlin job twice on the autumn
change (once per fold) and then keeps returning the same instant. Here a local time that occurs
twice is taken once (its first occurrence), and one that does not exist (spring gap) is taken at
the same wall-clock distance after the change (02:30 becomes 03:30).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.model import Schedule

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_WORDS = {"daily": range(7), "everyday": range(7), "weekdays": range(5), "weekends": range(5, 7)}
MAX_TIMES = 6

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")
_DAY_SPEC = re.compile(r"^[a-z]{3,9}(-[a-z]{3,9})?(,[a-z]{3,9}(-[a-z]{3,9})?)*$")


class ScheduleError(ValueError):
    """What the person typed is not a schedule; the message says what is expected."""


@dataclass(frozen=True)
class ScheduleParts:
    """What a /subscribe line asked for; None where it said nothing."""

    times: tuple[str, ...] | None = None
    timezone: str | None = None
    days: frozenset[int] | None = None
    target: str | None = None


def parse_time(text: str) -> str:
    match = _TIME.match(text.strip())
    if not match:
        raise ScheduleError(f"{text!r} is not a time of day; use HH:MM, e.g. 07:30")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_days(text: str) -> frozenset[int]:
    """'mon-fri', 'sat,sun', 'weekdays', 'daily', 'mon,wed,fri'."""
    text = text.strip().lower()
    if text in DAY_WORDS:
        return frozenset(DAY_WORDS[text])
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        start, end = _day(first), _day(last or first)
        span = range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)]
        days.update(span)
    return frozenset(days)


def _day(word: str) -> int:
    key = word[:3]
    if key not in DAY_NAMES:
        raise ScheduleError(f"{word!r} is not a day; use mon, tue, ... sun, or mon-fri, weekdays, weekends, daily")
    return DAY_NAMES.index(key)


def parse_timezone(text: str) -> str:
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        matches = [z for z in available_timezones() if z.lower() == name.lower()]
        if not matches:
            raise ScheduleError(f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin") from None
        name = matches[0]
    return name


def parse_subscribe_words(words: Iterable[str]) -> ScheduleParts:
    """Sort the words of '/subscribe @chan 07:30 18:00 Europe/Berlin mon-fri' by their shape."""
    times: list[str] = []
    timezone = target = None
    days: frozenset[int] | None = None
    for word in (w for chunk in words for w in chunk.replace(",", " , ").split()):
        lowered = word.lower()
        if word == ",":
            continue
        if word.startswith(("@", "#", "<#")) or word.lstrip("-").isdigit() and len(word) > 5:
            target = word
        elif _TIME.match(word):
            times.append(parse_time(word))
        elif lowered in DAY_WORDS or (_DAY_SPEC.match(lowered) and lowered[:3] in DAY_NAMES):
            days = (days or frozenset()) | parse_days(lowered)
        elif "/" in word or lowered in ("utc", "gmt"):
            timezone = parse_timezone(word)
        else:
            raise ScheduleError(f"I don't understand {word!r}: give times as HH:MM, a time zone like "
                                "Europe/Berlin and days like mon-fri")
    if len(times) > MAX_TIMES:
        raise ScheduleError(f"at most {MAX_TIMES} times a day")
    return ScheduleParts(tuple(sorted(set(times))) or None, timezone, days, target)


def next_due(schedule: Schedule, after: datetime) -> datetime:
    """The first scheduled instant strictly after `after`, in UTC."""
    zone = ZoneInfo(schedule.timezone)
    start = after.astimezone(zone).date() - timedelta(days=1)
    for offset in range(9):
        day = start + timedelta(days=offset)
        if day.weekday() not in schedule.days:
            continue
        instants = []
        for text in schedule.times:
            hour, minute = map(int, text.split(":"))
            instants.append(datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC))
        later = [i for i in instants if i > after]
        if later:
            return min(later)
    raise ScheduleError("the schedule has no days")


def describe(schedule: Schedule) -> str:
    """'07:30, 18:00 on mon-fri (Europe/Berlin)'."""
    if schedule.days == frozenset(range(7)):
        days = "every day"
    else:
        days = "on " + ",".join(DAY_NAMES[d] for d in sorted(schedule.days))
    return f"{', '.join(schedule.times)} {days} ({schedule.timezone})"
