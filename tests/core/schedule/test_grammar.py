"""The `every` / `at` grammar: readable forms and quoted cron, with helpful errors."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.schedule.grammar import ScheduleError, parse_at, parse_every

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 3, 29, 12, 0, tzinfo=UTC)  # a Friday, 13:00 in Berlin


@pytest.mark.parametrize(
    ("text", "kind", "expr", "task"),
    [
        ("day at 9:00 check the backups", "cron", "0 9 * * *", "check the backups"),
        ("day at 9 check the backups", "cron", "0 9 * * *", "check the backups"),
        ("weekday at 9 check the backups", "cron", "0 9 * * 1-5", "check the backups"),
        ("weekdays at 09:30 stand-up notes", "cron", "30 9 * * 1-5", "stand-up notes"),
        ("monday 08:30 Plan the week", "cron", "30 8 * * 1", "Plan the week"),
        ("monday at 8:30 plan", "cron", "30 8 * * 1", "plan"),
        ("mon,wed,fri at 7pm water the plants", "cron", "0 19 * * 1,3,5", "water the plants"),
        ("mon, wed at 7am x", "cron", "0 7 * * 1,3", "x"),
        ("sundays at 10 weekly report", "cron", "0 10 * * 0", "weekly report"),
        ("weekend at noon check", "cron", "0 12 * * 0,6", "check"),
        ("day at midnight rotate logs", "cron", "0 0 * * *", "rotate logs"),
        ("day at 12am rotate", "cron", "0 0 * * *", "rotate"),
        ("day at 12pm lunch", "cron", "0 12 * * *", "lunch"),
        ("2 hours check disk", "interval", "7200", "check disk"),
        ("hour check disk", "interval", "3600", "check disk"),
        ("30 minutes ping", "interval", "1800", "ping"),
        ("15 min ping", "interval", "900", "ping"),
        ("3 days prune", "interval", "259200", "prune"),
        ('"0 9 * * 1-5" check the backups', "cron", "0 9 * * 1-5", "check the backups"),
        ("'*/15 8-18 * * *' poll", "cron", "*/15 8-18 * * *", "poll"),
        ("`0 6 1 * *` monthly bill", "cron", "0 6 1 * *", "monthly bill"),
        ("day at 9:00, check backups", "cron", "0 9 * * *", "check backups"),
    ],
)
def test_every_forms(text: str, kind: str, expr: str, task: str) -> None:
    parsed = parse_every(text)
    assert (parsed.schedule.kind, parsed.schedule.expr, parsed.task) == (kind, expr, task)


@pytest.mark.parametrize(
    ("text", "local", "task"),
    [
        ("17:00 tomorrow deploy", "2024-03-30 17:00", "deploy"),
        ("17:00 deploy", "2024-03-29 17:00", "deploy"),
        ("9:00 deploy", "2024-03-30 09:00", "deploy"),  # passed today: tomorrow
        ("9am monday deploy", "2024-04-01 09:00", "deploy"),  # across the DST change
        ("2024-12-24 18:00 send greetings", "2024-12-24 18:00", "send greetings"),
        ("18:00 on 2024-12-24 send greetings", "2024-12-24 18:00", "send greetings"),
        ("noon today lunch", "2024-03-29 12:00", None),
    ],
)
def test_at_forms(text: str, local: str, task: str | None) -> None:
    if task is None:
        with pytest.raises(ScheduleError, match="already passed"):
            parse_at(text, now=NOW, tz=BERLIN)
        return
    parsed = parse_at(text, now=NOW, tz=BERLIN)
    moment = datetime.fromisoformat(parsed.schedule.expr).astimezone(BERLIN)
    assert f"{moment:%Y-%m-%d %H:%M}" == local and parsed.task == task
    assert parsed.schedule.kind == "once"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "can't read when"),
        ("sometimes check", "can't read when"),
        ("day check the backups", "at what time"),
        ("funday at 9 party", "not a day"),
        ("day at 25:00 x", "hours 0-23"),
        ("day at 9:75 x", "minutes 0-59"),
        ("day at 13pm x", "1 to 12"),
        ("day at 9:00", "say what to do"),
        ("2 hours", "say what to do"),
        ('"0 9 * *" x', "5 fields"),
        ('"0 9 * * 9" x', "invalid"),
        ("0 minutes x", "at least 1"),
    ],
)
def test_invalid_every(text: str, hint: str) -> None:
    with pytest.raises(ScheduleError, match=hint):
        parse_every(text)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("soon deploy", "can't read that time"),
        ("17:00 yesterday deploy", "can't read that time|not a day|say what"),
        ("2024-02-30 10:00 x", "not a date"),
        ("2023-01-01 10:00 x", "already passed"),
        ("17:00 tomorrow", "say what to do"),
    ],
)
def test_invalid_at(text: str, hint: str) -> None:
    with pytest.raises(ScheduleError, match=hint):
        parse_at(text, now=NOW, tz=BERLIN)
