"""Tiered-store levels are normalised once, and an unusable level stops at validation."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.api.v1alpha1.common import TieredStore
from fluidpy.engines.base.errors import ValidationError
from fluidpy.engines.base.runtime_info import TieredStoreLevel, capacity_by_medium
from fluidpy.engines.masterworker.tieredstore import tiered_store_levels

GI = 1024**3


def levels(*items: dict[str, Any]) -> list[TieredStoreLevel]:
    return tiered_store_levels(TieredStore.model_validate({"levels": list(items)}))


def test_a_quota_is_split_evenly_over_the_levels_paths() -> None:
    [level] = levels({"mediumtype": "SSD", "path": "/a/,/b", "quota": "2Gi", "high": "0.9"})

    assert level == TieredStoreLevel(
        medium="SSD", paths=(("/a", str(GI)), ("/b", str(GI))), high="0.9", volume_type="hostPath"
    )


def test_a_quota_list_gives_each_path_its_own_quota() -> None:
    [level] = levels({"mediumtype": "HDD", "path": "/a,/b", "quotaList": "1Gi,3Gi"})

    assert level.paths == (("/a", str(GI)), ("/b", str(3 * GI)))


def test_a_quota_list_of_the_wrong_length_names_the_field() -> None:
    with pytest.raises(ValidationError) as raised:
        levels({"mediumtype": "HDD", "path": "/a,/b", "quotaList": "1Gi"})

    assert raised.value.field == "spec.tieredstore.levels[0].quotaList"
    assert "1 quota(s) for 2 path(s)" in raised.value.message


def test_a_level_without_any_quota_is_invalid() -> None:
    with pytest.raises(ValidationError, match=r"levels\[0\].quota: is missing"):
        levels({"mediumtype": "MEM", "path": "/dev/shm"})


def test_no_tiered_store_means_no_levels() -> None:
    assert tiered_store_levels(None) == []


def test_capacity_is_summed_per_medium() -> None:
    result = levels(
        {"mediumtype": "MEM", "path": "/dev/shm", "quota": "1Gi"},
        {"mediumtype": "SSD", "path": "/a,/b", "quota": "4Gi"},
    )

    assert capacity_by_medium(result) == (GI, 4 * GI)
