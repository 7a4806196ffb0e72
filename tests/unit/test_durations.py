"""Durations shown as upstream shows them (Go's rounded time.Duration)."""

from __future__ import annotations

import pytest

from fluidpy.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (37.9, "37s"), (125, "2m5s"), (3603, "1h0m3s"), (-4, "0s")],
)
def test_a_duration_reads_like_go_prints_it(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_what_is_shown_parses_back_to_the_whole_seconds() -> None:
    assert parse_duration(format_duration(3725.5)) == 3725.0
