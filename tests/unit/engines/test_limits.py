"""Replica bounds, for every place a built-in kind keeps a replica count."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.engines.base.errors import ValidationError
from fluidpy.engines.base.limits import check_replicas


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"replicas": 1001}, "spec.replicas"),
        ({"master": {"replicas": 5000}}, "spec.master.replicas"),
        ({"worker": {"replicas": 1_000_001}}, "spec.worker.replicas"),
    ],
)
def test_a_component_above_the_bound_is_refused_naming_its_field(
    spec: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        check_replicas(spec, 1000)

    assert refused.value.reason == "ReplicasOverLimit"
    assert refused.value.field == field
    assert "--max-component-replicas" in refused.value.message


@pytest.mark.parametrize(
    "spec", [{}, {"replicas": 1000}, {"worker": {"replicas": 3}}, {"master": "not a map"}]
)
def test_counts_within_the_bound_or_absent_pass(spec: dict[str, Any]) -> None:
    check_replicas(spec, 1000)
