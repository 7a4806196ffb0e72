"""Worker placement: upstream's rules added on top of a template's affinity, and cacheAffinity."""

from __future__ import annotations

from typing import Any

from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.placement import (
    PREFERRED,
    REQUIRED,
    cache_affinity,
    combine_node_selectors,
    dataset_tolerations,
    placement_labels,
    worker_affinity,
)
from fluidpy.engines.base.runtime_info import SHARED, RuntimeInfo

ZONE_A = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
ZONE_B = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}
SSD = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
GPU_TAINT = {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}


def info(placement: str = "Exclusive", name: str = "spark", uid: str = "") -> RuntimeInfo:
    return RuntimeInfo(
        name=name,
        namespace="default",
        runtime_type="cache",
        placement=placement,
        owner_dataset_uid=uid,
    )


def dataset(**spec: Any) -> DatasetSpec:
    return DatasetSpec.model_validate(spec)


def test_workers_carry_the_dataset_and_its_placement_as_labels() -> None:
    assert placement_labels(info()) == {
        "fluid.io/dataset": "default-spark",
        "fluid.io/dataset-placement": "Exclusive",
    }


def test_a_dataset_name_too_long_for_a_label_value_is_replaced_by_its_uid() -> None:
    labels = placement_labels(info(name="x" * 60, uid="0b7d1c1e-uid"))

    assert labels["fluid.io/dataset"] == "0b7d1c1e-uid"


def test_an_exclusive_worker_requires_a_node_without_any_datasets_worker() -> None:
    affinity = worker_affinity(info(), dataset())

    assert affinity["podAntiAffinity"] == {
        REQUIRED: [
            {
                "labelSelector": {
                    "matchExpressions": [{"key": "fluid.io/dataset", "operator": "Exists"}]
                },
                "topologyKey": "kubernetes.io/hostname",
            }
        ]
    }
    assert affinity["nodeAffinity"] == {
        PREFERRED: [
            {
                "weight": 100,
                "preference": {
                    "matchExpressions": [
                        {"key": "fluid.io/f-default-spark", "operator": "In", "values": ["true"]}
                    ]
                },
            }
        ]
    }


def test_a_shared_worker_only_spreads_from_workers_but_avoids_exclusive_ones() -> None:
    anti = worker_affinity(info(SHARED), dataset())["podAntiAffinity"]

    assert anti[PREFERRED][0]["weight"] == 50
    assert anti[PREFERRED][0]["podAffinityTerm"]["labelSelector"] == {
        "matchExpressions": [{"key": "fluid.io/dataset", "operator": "Exists"}]
    }
    assert anti[REQUIRED][0]["labelSelector"] == {
        "matchExpressions": [
            {"key": "fluid.io/dataset-placement", "operator": "In", "values": ["Exclusive"]}
        ]
    }


def test_the_datasets_required_terms_are_used_as_they_are_when_the_template_has_none() -> None:
    spec = dataset(nodeAffinity={"required": {"nodeSelectorTerms": [ZONE_A, ZONE_B]}})

    node = worker_affinity(info(), spec)["nodeAffinity"]

    assert node[REQUIRED] == {"nodeSelectorTerms": [ZONE_A, ZONE_B]}


def test_template_and_dataset_terms_combine_as_a_cross_product() -> None:
    template = {"nodeSelectorTerms": [ZONE_A, ZONE_B]}
    wanted = {"nodeSelectorTerms": [SSD]}

    combined = combine_node_selectors(template, wanted)

    assert combined == {
        "nodeSelectorTerms": [
            {"matchExpressions": [*ZONE_A["matchExpressions"], *SSD["matchExpressions"]]},
            {"matchExpressions": [*ZONE_B["matchExpressions"], *SSD["matchExpressions"]]},
        ]
    }
    assert combine_node_selectors(template, None) == template
    assert combine_node_selectors(None, None) is None


def test_the_templates_own_affinity_is_kept_and_the_rules_are_added_to_it() -> None:
    own_anti = {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}
    own_preference = {"weight": 1, "preference": ZONE_B}
    template = {
        "podAntiAffinity": {REQUIRED: [own_anti]},
        "podAffinity": {REQUIRED: [own_anti]},
        "nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [ZONE_A]}, PREFERRED: [own_preference]},
    }
    spec = dataset(nodeAffinity={"required": {"nodeSelectorTerms": [SSD]}})

    affinity = worker_affinity(info(), spec, template)

    assert affinity["podAffinity"] == template["podAffinity"]
    assert affinity["podAntiAffinity"][REQUIRED][0] == own_anti
    assert len(affinity["podAntiAffinity"][REQUIRED]) == 2
    assert affinity["nodeAffinity"][PREFERRED][0] == own_preference
    assert affinity["nodeAffinity"][PREFERRED][1]["weight"] == 100
    terms = affinity["nodeAffinity"][REQUIRED]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [*ZONE_A["matchExpressions"], *SSD["matchExpressions"]]}]
    assert template["nodeAffinity"][REQUIRED] == {"nodeSelectorTerms": [ZONE_A]}  # untouched


def test_every_component_tolerates_the_datasets_tolerations_before_its_own() -> None:
    own = {"key": "spot", "operator": "Exists"}

    assert dataset_tolerations(dataset(tolerations=[GPU_TAINT]), [own]) == [GPU_TAINT, own]
    assert dataset_tolerations(dataset()) == []


def test_cache_affinity_folds_the_node_selector_into_every_required_term() -> None:
    preference = {"weight": 100, "preference": SSD}
    pod_spec = {
        "nodeSelector": {"pool": "cache"},
        "affinity": {
            "nodeAffinity": {
                REQUIRED: {"nodeSelectorTerms": [ZONE_A, ZONE_B]},
                PREFERRED: [preference],
            }
        },
    }

    affinity = cache_affinity(pod_spec)

    pool = {"key": "pool", "operator": "In", "values": ["cache"]}
    assert affinity == {
        REQUIRED: {
            "nodeSelectorTerms": [
                {"matchExpressions": [*ZONE_A["matchExpressions"], pool]},
                {"matchExpressions": [*ZONE_B["matchExpressions"], pool]},
            ]
        },
        PREFERRED: [preference],
    }


def test_cache_affinity_of_a_node_selector_alone_is_one_term() -> None:
    affinity = cache_affinity({"nodeSelector": {"pool": "cache"}})

    assert affinity == {
        REQUIRED: {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["cache"]}]}
            ]
        }
    }
    assert cache_affinity({}) is None
