"""Cron schedules, as Kubernetes CronJobs read them: five fields or an @-macro, times in UTC.

Fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12) and day of week (0-6,
Sunday 0 or 7); each is `*`, a number, a range `a-b`, any of those with a step `/n`, or a comma
list of them. When both day fields are restricted, a day matches if either does (cron's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12))
SEARCH_DAYS = 366 * 5
"""How far ahead a next time is looked for; further means the schedule never fires (Feb 30)."""


class InvalidSchedule(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def _day_matches(self, day: datetime) -> bool:
        weekday = (day.weekday() + 1) % 7
        in_month = day.day in self.days
        in_week = weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, after: datetime) -> datetime:
        """The first scheduled minute strictly after `after` (timezone-aware, UTC)."""
        start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(SEARCH_DAYS):
            if day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise InvalidSchedule("the schedule never fires")

    def last_due(self, after: datetime, now: datetime) -> datetime | None:
        """The latest scheduled minute in (after, now], or None; missed earlier ones are
        skipped, as a CronJob that was down skips them."""
        due = None
        tick = self.next_after(after)
        while tick <= now:
            due = tick
            tick = self.next_after(tick)
        return due


def parse(text: str) -> Schedule:
    expression = MACROS.get(text.strip(), text.strip())
    parts = expression.split()
    if len(parts) != 5:
        raise InvalidSchedule(
            f"{text!r} has {len(parts)} fields; a schedule has five (minute hour day-of-month "
            "month day-of-week, e.g. '*/5 * * * *') or is an @-macro such as @hourly"
        )
    minutes, hours, days, months = (
        _field(part, name, low, high)
        for part, (name, low, high) in zip(parts, FIELDS, strict=False)
    )
    weekdays = frozenset(d % 7 for d in _field(parts[4], "day of week", 0, 7))
    return Schedule(minutes, hours, days, months, weekdays, parts[2] == "*", parts[4] == "*")


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = _number(step_text, name) if step_text else 1
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first_text, _, last_text = span.partition("-")
            first, last = _number(first_text, name), _number(last_text, name)
        else:
            first = _number(span, name)
            last = high if step_text else first
        if not (low <= first <= last <= high) or step < 1:
            raise InvalidSchedule(f"{name} {item!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(text: str, name: str) -> int:
    if not text.isdigit():
        raise InvalidSchedule(f"{name} {text!r} is not a number")
    return int(text)
