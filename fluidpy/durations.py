"""Go durations (`300ms`, `1m30s`, `2h`), the one parser for flags and environment variables.

Upstream's flags and variables take Go's time.ParseDuration syntax, so ours do too: a sequence
of decimal numbers each with a unit (ns, us, µs, ms, s, m, h), optionally signed. A bare number
is read as seconds, which upstream's integer variables (FLUID_RUNTIME_RECONCILE_DURATION) are.
A value that does not parse is an error that names it: silently falling back to a default
hides a typo until the behaviour it was meant to change is missed.
"""

from __future__ import annotations

import os
import re

UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_TERM = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_BARE = re.compile(r"[+-]?(\d+(?:\.\d*)?|\.\d+)")


class DurationError(ValueError):
    """A duration that does not parse; the message says what was expected."""


def parse_duration(text: str) -> float:
    """Seconds from a Go duration (`1m30s` -> 90.0) or a bare number of seconds."""
    raw = text.strip()
    if _BARE.fullmatch(raw):
        return float(raw)
    sign, body = (-1.0, raw[1:]) if raw.startswith("-") else (1.0, raw.removeprefix("+"))
    seconds, position = 0.0, 0
    for match in _TERM.finditer(body):
        if match.start() != position:
            break
        seconds += float(match[1]) * UNITS[match[2]]
        position = match.end()
    if not body or position != len(body):
        raise DurationError(
            f"{text!r} is not a duration: expected a number with a unit (ns, us, ms, s, m, h), "
            "as in 300ms, 1m30s or 2h"
        )
    return sign * seconds


def duration_from_env(variable: str, default: float) -> float:
    """Seconds from environment variable `variable`, `default` when unset or empty; a value
    that does not parse raises DurationError naming the variable."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        return parse_duration(raw)
    except DurationError as error:
        raise DurationError(f"environment variable {variable}: {error}") from None


def format_duration(seconds: float) -> str:
    """Whole seconds as upstream shows durations (Go's rounded time.Duration): 37s, 2m5s,
    1h0m3s; negative spans show as 0s."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, whole = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{whole}s"
    if minutes:
        return f"{minutes}m{whole}s"
    return f"{whole}s"
