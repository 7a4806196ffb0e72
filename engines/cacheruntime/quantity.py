"""Kubernetes resource quantities as numbers, to tell `1024Mi` and `1Gi` apart from a change.

The API server stores quantities in canonical form, so an object read back may spell a value
differently from how it was rendered; comparing the numbers avoids rewriting an object forever
over spelling.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_PATTERN = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(value: object) -> Decimal | None:
    """The quantity's value, or None when `value` is not a quantity."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    match = _PATTERN.match(str(value).strip())
    if match is None:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        base = Decimal(number)
    except InvalidOperation:
        return None
    if suffix in _BINARY:
        return base * Decimal(1024 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return base.scaleb(_DECIMAL[suffix])
    return base.scaleb(int(suffix[1:]))


def same_quantity(a: object, b: object) -> bool:
    left, right = parse_quantity(a), parse_quantity(b)
    return left is not None and right is not None and left == right
