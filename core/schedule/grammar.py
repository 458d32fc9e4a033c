"""The schedule grammar of `every …` and `at …`, parsed without any model.

    every day at 9:00 <task>          every weekday at 9 <task>       every monday 08:30 <task>
    every mon,wed,fri at 7pm <task>   every weekend at noon <task>    every 2 hours <task>
    every 30 minutes <task>           every hour <task>               every "0 9 * * 1-5" <task>
    at 17:00 <task>                   at 17:00 tomorrow <task>        at 9am friday <task>
    at 2026-12-24 18:00 <task>

Recurring day/time forms become 5-field crontab expressions (evaluated in the channel's
timezone, so 9:00 stays 9:00 across a DST change); intervals are elapsed seconds; `at` is one
moment, resolved now in the channel's timezone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.errors import ConfigError
from core.scheduler import crontab_trigger

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS = {
    **{d: d for d in DAYS},
    "monday": "mon", "tuesday": "tue", "tues": "tue", "wednesday": "wed", "thursday": "thu",
    "thur": "thu", "thurs": "thu", "friday": "fri", "saturday": "sat", "sunday": "sun",
}  # fmt: skip
_CRON_DOW = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}
_UNITS = {
    "minute": 60, "minutes": 60, "min": 60, "mins": 60, "m": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "h": 3600,
    "day": 86400, "days": 86400, "d": 86400,
}  # fmt: skip
_TIME = r"(?:noon|midnight|\d{1,2}(?::\d{2})?(?:\s?(?:am|pm))?)"
_QUOTED = re.compile(r"^([\"'`])(?P<cron>[^\"'`]+)\1\s*(?P<rest>.*)$", re.S)
_INTERVAL = re.compile(r"^(?:(?P<n>\d+)\s*)?(?P<unit>[a-z]+)\b\s*(?P<rest>.*)$", re.S)
_DAYSPEC = re.compile(
    r"^(?P<days>day|weekday|weekdays|weekend|weekends|[a-z]+(?:\s*,\s*[a-z]+)*)"
    rf"(?:\s+at)?\s+(?P<time>{_TIME})\b\s*(?P<rest>.*)$",
    re.S,
)
_AT = re.compile(
    rf"^(?:(?P<date1>\d{{4}}-\d{{2}}-\d{{2}})\s+)?(?P<time>{_TIME})\b"
    r"(?:\s+(?:on\s+)?(?P<when>today|tomorrow|[a-z]+day|\d{4}-\d{2}-\d{2}))?\s*(?P<rest>.*)$",
    re.S,
)

EXAMPLES = (
    "`every day at 9:00 <task>`, `every weekday at 9 <task>`, `every monday 08:30 <task>`, "
    '`every 2 hours <task>`, `every "0 9 * * 1-5" <task>`, `at 17:00 tomorrow <task>`'
)


class ScheduleError(ValueError):
    """The schedule could not be understood; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a job runs: ``cron`` (5 fields), ``interval`` (seconds) or ``once`` (ISO time)."""

    kind: str
    expr: str
    describe: str


@dataclass(frozen=True, slots=True)
class ParsedJob:
    """A schedule and the task to run on it."""

    schedule: Schedule
    task: str


def parse_every(text: str) -> ParsedJob:
    """Parse what follows `every`."""
    text = text.strip()
    quoted = _QUOTED.match(text)
    if quoted:
        expr = " ".join(quoted["cron"].split())
        try:
            crontab_trigger(expr)
        except ConfigError as exc:
            raise ScheduleError(f'{exc}. Example: `every "0 9 * * 1-5" <task>`') from None
        return ParsedJob(Schedule("cron", expr, f"cron `{expr}`"), _task(quoted["rest"]))
    lower = text.lower()
    interval = _INTERVAL.match(lower)
    if interval and interval["unit"] in _UNITS and not _starts_with_time(interval["rest"]):
        n = int(interval["n"] or 1)
        if n <= 0:
            raise ScheduleError("the interval must be at least 1")
        seconds = n * _UNITS[interval["unit"]]
        unit = interval["unit"].rstrip("s") if n == 1 else interval["unit"]
        unit = {"min": "minute", "m": "minute", "h": "hour", "hr": "hour", "d": "day"}.get(
            unit.rstrip("s"), unit
        )
        if interval["unit"] in ("day", "days", "d") and n == 1:
            raise ScheduleError("say at what time: e.g. `every day at 9:00 <task>`")
        label = f"every {unit}" if n == 1 else f"every {n} {_plural(unit)}"
        return ParsedJob(Schedule("interval", str(seconds), label), _tail(text, interval["rest"]))
    spec = _DAYSPEC.match(lower)
    if spec is None:
        raise ScheduleError(f"I can't read when to run it. Try {EXAMPLES}.")
    dow, days_label = _days(spec["days"])
    hour, minute = _clock(spec["time"])
    expr = f"{minute} {hour} * * {dow}"
    describe = f"{days_label} at {hour:02d}:{minute:02d}"
    return ParsedJob(Schedule("cron", expr, describe), _tail(text, spec["rest"]))


def parse_at(text: str, *, now: datetime, tz: ZoneInfo) -> ParsedJob:
    """Parse what follows `at`: one moment, in ``tz``, after ``now`` (aware)."""
    text = text.strip()
    match = _AT.match(text.lower())
    if match is None:
        raise ScheduleError(
            "I can't read that time. Try `at 17:00 <task>`, `at 9am friday <task>`, "
            "`at 17:00 tomorrow <task>` or `at 2026-12-24 18:00 <task>`."
        )
    hour, minute = _clock(match["time"])
    local_now = now.astimezone(tz)
    date_text = match["date1"] or (
        match["when"] if match["when"] and match["when"][0].isdigit() else None
    )
    when = match["when"] if match["when"] and not match["when"][0].isdigit() else None
    if date_text:
        try:
            day = datetime.strptime(date_text, "%Y-%m-%d").date()
        except ValueError:
            raise ScheduleError(f"{date_text!r} is not a date (YYYY-MM-DD)") from None
    elif when in (None, "today"):
        day = local_now.date()
    elif when == "tomorrow":
        day = local_now.date() + timedelta(days=1)
    else:
        short = _DAY_WORDS.get(when or "")
        if short is None:
            raise ScheduleError(f"{when!r} is not a day: use today, tomorrow or a weekday name")
        ahead = (DAYS.index(short) - local_now.weekday()) % 7
        day = local_now.date() + timedelta(days=ahead)
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    if moment <= local_now:
        if when is None and not date_text:
            moment += timedelta(days=1)  # "at 9:00" after 9:00 means tomorrow
        else:
            raise ScheduleError(
                f"{moment:%Y-%m-%d %H:%M} has already passed in {tz.key}; give a future time"
            )
    stamp = moment.astimezone(ZoneInfo("UTC")).isoformat()
    return ParsedJob(
        Schedule("once", stamp, f"once at {moment:%Y-%m-%d %H:%M} {tz.key}"),
        _tail(text, match["rest"]),
    )


def _starts_with_time(rest: str) -> bool:
    return bool(re.match(rf"^(?:at\s+)?{_TIME}\b", rest))


def _plural(unit: str) -> str:
    return unit if unit.endswith("s") else unit + "s"


def _days(text: str) -> tuple[str, str]:
    words = [w.strip() for w in text.split(",")]
    if words == ["day"]:
        return "*", "every day"
    if words[0] in ("weekday", "weekdays"):
        return "1-5", "every weekday (Mon–Fri)"
    if words[0] in ("weekend", "weekends"):
        return "0,6", "every weekend day (Sat, Sun)"
    shorts = []
    for word in words:
        short = _DAY_WORDS.get(word.rstrip("s") if word.endswith("days") else word)
        if short is None:
            raise ScheduleError(
                f"{word!r} is not a day: use day, weekday, weekend or day names like "
                f"monday or mon,wed,fri. Try {EXAMPLES}."
            )
        shorts.append(short)
    dow = ",".join(str(_CRON_DOW[s]) for s in dict.fromkeys(shorts))
    label = "every " + ", ".join(s.capitalize() for s in dict.fromkeys(shorts))
    return dow, label


def _clock(text: str) -> tuple[int, int]:
    text = text.strip().replace(" ", "")
    if text == "noon":
        return 12, 0
    if text == "midnight":
        return 0, 0
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(am|pm)?", text)
    if match is None:
        raise ScheduleError(f"{text!r} is not a time of day (e.g. 9, 09:30, 7pm)")
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"{text!r} is not a time: with am/pm the hour is 1 to 12")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ScheduleError(f"{text!r} is not a time of day (hours 0-23, minutes 0-59)")
    return hour, minute


def _tail(text: str, rest: str) -> str:
    """The task: the original text's tail (case kept) matching ``rest`` of the lowered text."""
    return _task(text[len(text) - len(rest) :] if len(text) == len(text.lower()) else rest)


def _task(rest: str) -> str:
    task = rest.strip().lstrip(",:;-– ").strip()
    if not task:
        raise ScheduleError(
            "say what to do after the time, e.g. `every day at 9:00 check backups`"
        )
    return task
