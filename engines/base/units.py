"""Byte sizes in the three spellings engines meet: Kubernetes quantities, cache CLIs, statuses.

- Kubernetes quantities (`2Gi`, `20M`, `1e3`) come from runtime specs (tiered-store quotas).
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
    "": 1,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
    "Pi": 1024**5,
    "Ei": 1024**6,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPE]))?$"
)
_HUMAN = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)\s*([KMGTPE]?)(i?)B?$", re.IGNORECASE)
_HUMAN_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def parse_quantity(value: str | int) -> int:
    """Bytes in a Kubernetes quantity, rounded up (as the API server rounds storage requests)."""
    if isinstance(value, int):
        return value
    match = _QUANTITY.match(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 2Gi, 500Mi, 20M)")
    number, exponent, suffix = match.groups()
    try:
        amount = Decimal(number)
        amount *= Decimal(10) ** int(exponent[1:]) if exponent else _QUANTITY_SUFFIXES[suffix or ""]
    except InvalidOperation as error:
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from error
    if amount < 0:
        raise ValueError(f"{value!r} is negative")
    return math.ceil(amount)


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
