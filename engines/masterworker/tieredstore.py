"""A runtime's tiered store (`spec.tieredstore.levels`), checked and normalised once.

Every level becomes a `TieredStoreLevel` with one (path, quota in bytes) pair per cache
directory, following upstream's rules: `path` is comma-separated (a trailing `/` dropped);
`quotaList` gives one quota per path and wins over `quota`; otherwise `quota` is split evenly.
A level that cannot be read raises ValidationError naming the field and the fix, so a bad spec
stops at validation instead of producing workloads with wrong sizes.
"""

from __future__ import annotations

from fluidpy.api.v1alpha1.common import Level, TieredStore
from fluidpy.engines.base.errors import ValidationError
from fluidpy.engines.base.runtime_info import TieredStoreLevel
from fluidpy.engines.base.units import parse_quantity


def tiered_store_levels(tieredstore: TieredStore | None) -> list[TieredStoreLevel]:
    return [_level(index, level) for index, level in enumerate(_levels(tieredstore))]


def _levels(tieredstore: TieredStore | None) -> list[Level]:
    return list((tieredstore.levels if tieredstore else None) or [])


def _level(index: int, level: Level) -> TieredStoreLevel:
    field = f"spec.tieredstore.levels[{index}]"
    paths = [p.strip().rstrip("/") or "/" for p in (level.path or "").split(",") if p.strip()]
    if not paths:
        raise ValidationError(
            f"{field}.path", "is empty", "give the cache directory, e.g. /dev/shm"
        )
    quotas = _quotas(field, level, len(paths))
    return TieredStoreLevel(
        medium=str(level.mediumtype),
        paths=tuple(zip(paths, (str(q) for q in quotas), strict=True)),
        high=level.high or "",
        low=level.low or "",
        volume_type=str(level.volume_type),
    )


def _quotas(field: str, level: Level, count: int) -> list[int]:
    if level.quota_list:
        items = [q for q in level.quota_list.split(",") if q.strip()]
        if len(items) != count:
            raise ValidationError(
                f"{field}.quotaList",
                f"has {len(items)} quota(s) for {count} path(s)",
                "give exactly one quota per path, in the order of path",
            )
        return [_parse(f"{field}.quotaList", item) for item in items]
    if level.quota is None:
        raise ValidationError(
            f"{field}.quota", "is missing", "set quota (e.g. 2Gi) or quotaList for the level"
        )
    total = _parse(f"{field}.quota", level.quota)
    return [total // count] * count


def _parse(field: str, value: str | int) -> int:
    try:
        return parse_quantity(value)
    except ValueError as error:
        raise ValidationError(field, str(error), "use a quantity such as 2Gi or 500Mi") from None
