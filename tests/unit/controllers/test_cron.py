"""Cron schedules read as Kubernetes CronJobs read them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fluidpy.controllers.cron import InvalidSchedule, parse


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("* * * * *", "2026-01-01 10:00", "2026-01-01 10:01"),
        ("*/15 * * * *", "2026-01-01 10:01", "2026-01-01 10:15"),
        ("30 2 * * *", "2026-01-01 03:00", "2026-01-02 02:30"),
        ("0 0 1 * *", "2026-01-15 00:00", "2026-02-01 00:00"),
        ("0 9 * * 1-5", "2026-01-02 10:00", "2026-01-05 09:00"),
        ("0 9 * * 7", "2026-01-01 00:00", "2026-01-04 09:00"),
        ("0 0 13 * 5", "2026-01-01 00:00", "2026-01-02 00:00"),
        ("@hourly", "2026-01-01 10:30", "2026-01-01 11:00"),
        ("0 0 29 2 *", "2026-03-01 00:00", "2028-02-29 00:00"),
        ("5,10-12 * * * *", "2026-01-01 10:10", "2026-01-01 10:11"),
    ],
)
def test_the_next_run_is_the_first_matching_minute_after(
    schedule: str, after: str, expected: str
) -> None:
    assert parse(schedule).next_after(at(after)) == at(expected)


def test_only_the_latest_missed_tick_runs() -> None:
    schedule = parse("*/10 * * * *")

    assert schedule.last_due(at("2026-01-01 10:00"), at("2026-01-01 10:35")) == at(
        "2026-01-01 10:30"
    )
    assert schedule.last_due(at("2026-01-01 10:00"), at("2026-01-01 10:09")) is None


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ("every night", "has 2 fields"),
        ("61 * * * *", "minute '61' is outside 0-59"),
        ("* * * 13 *", "month '13' is outside 1-12"),
        ("*/0 * * * *", "is outside"),
        ("a * * * *", "minute 'a' is not a number"),
        ("", "has 0 fields"),
        ("0 0 30 2 *", "never fires"),
    ],
)
def test_a_bad_schedule_is_refused_saying_which_field(schedule: str, words: str) -> None:
    with pytest.raises(InvalidSchedule, match=words):
        parse(schedule).next_after(at("2026-01-01 00:00"))
