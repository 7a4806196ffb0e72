"""Byte sizes in the three spellings engines meet: Kubernetes quantities, cache CLIs, statuses.

- Kubernetes quantities (`2Gi`, `20M`, `1e3`, `500m`) come from runtime specs (tiered-store
  quotas, resources) and are compared with what the API server stores (its canonical spelling).
- Cache CLIs print human sizes with binary meaning (`2.00GB`, `5120.00MB`, `0B`).
- Statuses show `%.2f` with binary units (`19.07MiB`), as Fluid's do, so `kubectl get dataset`
  reads the same whichever controller wrote it; node capacity labels use the shorter `2GiB`.

Parsers raise ValueError with the offending text; callers turn that into a clear error.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")

_QUANTITY_SUFFIXES = {
    "": 0,
    "n": -9,
    "u": -6,
    "m": -3,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_BINARY_SUFFIXES = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$"
)
_HUMAN = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)\s*([KMGTPE]?)(i?)B?$", re.IGNORECASE)
_HUMAN_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def quantity_value(value: object) -> Decimal:
    """The exact value of a Kubernetes quantity (`500m` is 0.5, `1Gi` is 2**30)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 2Gi, 500Mi, 20M)")
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 2Gi, 500Mi, 20M)")
    number, exponent, suffix = match.groups()
    try:
        amount = Decimal(number)
    except InvalidOperation as error:
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from error
    if exponent:
        return amount.scaleb(int(exponent[1:]))
    if suffix in _BINARY_SUFFIXES:
        return amount * Decimal(1024) ** (_BINARY_SUFFIXES.index(suffix) + 1)
    return amount.scaleb(_QUANTITY_SUFFIXES[suffix or ""])


def parse_quantity(value: str | int) -> int:
    """Bytes in a Kubernetes quantity, rounded up (as the API server rounds storage requests)."""
    amount = quantity_value(value)
    if amount < 0:
        raise ValueError(f"{value!r} is negative")
    return math.ceil(amount)


def same_quantity(a: object, b: object) -> bool:
    """Whether two spellings name one quantity (`1024Mi` and `1Gi`): the API server stores
    quantities in canonical form, so an object read back may spell a value differently."""
    try:
        return quantity_value(a) == quantity_value(b)
    except ValueError:
        return False


def format_quantity(size: int) -> str:
    """Bytes as the shortest exact quantity: `3Gi`, `1500M`, `1073741825`."""
    for power in range(len(_BINARY_SUFFIXES), 0, -1):
        if size and size % 1024**power == 0:
            return f"{size // 1024**power}{_BINARY_SUFFIXES[power - 1]}"
    for suffix in ("E", "P", "T", "G", "M", "k"):
        scale = 10 ** _QUANTITY_SUFFIXES[suffix]
        if size and size % scale == 0:
            return f"{size // scale}{suffix}"
    return str(size)


def parse_human_bytes(text: str) -> int:
    """Bytes in a CLI's human size: `2.00GB`, `512KB`, `1.5GiB`, `0B`, `1,024B`; K/M/G... are
    powers of 1024, as cache systems mean them."""
    cleaned = text.strip().replace(",", "")
    match = _HUMAN.match(cleaned)
    if match is None:
        raise ValueError(f"{text!r} is not a size (e.g. 2.00GB, 0B)")
    number, prefix, _binary = match.groups()
    scale = 1024 ** _HUMAN_POWERS[prefix.upper()]
    return int(Decimal(number) * scale)


def bytes_size(size: float) -> str:
    """`19.07MiB`: two decimals and a binary unit, as Fluid writes cache figures in statuses."""
    value, unit = _scaled(size)
    return f"{value:.2f}{unit}"


def short_size(size: float) -> str:
    """`2GiB`, `1.5GiB`: at most four significant digits, for node label values."""
    value, unit = _scaled(size)
    return f"{value:.4g}{unit}"


def percentage(part: float, whole: float) -> str:
    """`38.7%`, capped at 100% (a cache can hold replicas or data no longer in the UFS), and
    `0.0%` for an empty whole."""
    if whole <= 0:
        return "0.0%"
    return f"{min(part / whole * 100.0, 100.0):.1f}%"


def _scaled(size: float) -> tuple[float, str]:
    value, index = float(size), 0
    while abs(value) >= 1024 and index < len(BINARY_UNITS) - 1:
        value /= 1024
        index += 1
    return value, BINARY_UNITS[index]
