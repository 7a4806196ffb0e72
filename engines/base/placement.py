"""Where a Dataset's workers may run, as upstream Fluid places them.

Every engine's workers carry the labels these rules match, so placement holds across runtime
kinds: an Exclusive Dataset's worker never shares a node with any other Dataset's worker, a
Shared one's never shares with an Exclusive one's. The rules are added on top of whatever
affinity a worker template already has, never in place of it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.runtime_info import EXCLUSIVE, RuntimeInfo

DATASET_LABEL = "fluid.io/dataset"
PLACEMENT_LABEL = "fluid.io/dataset-placement"
HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
FUSE_AFFINITY_WEIGHT = 100
SHARED_SPREAD_WEIGHT = 50
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"

Obj = dict[str, Any]


def placement_labels(info: RuntimeInfo) -> dict[str, str]:
    """The labels on every worker pod that the anti-affinity rules of every Dataset's workers
    look for."""
    return {DATASET_LABEL: info.dataset_id, PLACEMENT_LABEL: info.placement}


def worker_affinity(info: RuntimeInfo, spec: DatasetSpec, template: Obj | None = None) -> Obj:
    """Where workers may go, as upstream places them: one per node for an Exclusive Dataset
    (and never beside another Dataset's workers), spread but shareable for a Shared one,
    preferably on nodes where applications use the Dataset, and only on the nodes both the
    template's and the Dataset's required node affinity allow. `template` is the affinity the
    worker's pod template already has (kept: the rules are added to it)."""
    affinity = copy.deepcopy(template or {})
    pod_anti = affinity.setdefault("podAntiAffinity", {})
    for key, terms in _pod_anti_affinity(info).items():
        pod_anti[key] = [*(pod_anti.get(key) or []), *terms]
    node = affinity.setdefault("nodeAffinity", {})
    node[PREFERRED] = [*(node.get(PREFERRED) or []), _fuse_preference(info)]
    required = combine_node_selectors(
        node.get(REQUIRED), spec.node_affinity.required if spec.node_affinity else None
    )
    if required:
        node[REQUIRED] = required
    return affinity


def _pod_anti_affinity(info: RuntimeInfo) -> dict[str, list[Obj]]:
    exists = {"key": DATASET_LABEL, "operator": "Exists"}
    if info.placement == EXCLUSIVE:
        return {
            REQUIRED: [
                {"labelSelector": {"matchExpressions": [exists]}, "topologyKey": HOSTNAME_TOPOLOGY}
            ]
        }
    exclusive = {"key": PLACEMENT_LABEL, "operator": "In", "values": [EXCLUSIVE]}
    return {
        PREFERRED: [
            {
                "weight": SHARED_SPREAD_WEIGHT,
                "podAffinityTerm": {
                    "labelSelector": {"matchExpressions": [exists]},
                    "topologyKey": HOSTNAME_TOPOLOGY,
                },
            }
        ],
        REQUIRED: [
            {"labelSelector": {"matchExpressions": [exclusive]}, "topologyKey": HOSTNAME_TOPOLOGY}
        ],
    }


def _fuse_preference(info: RuntimeInfo) -> Obj:
    """Nodes where the FUSE client runs are where the data is read."""
    expression = {"key": info.fuse_label, "operator": "In", "values": ["true"]}
    return {"weight": FUSE_AFFINITY_WEIGHT, "preference": {"matchExpressions": [expression]}}


def combine_node_selectors(template: Obj | None, dataset: Obj | None) -> Obj | None:
    """A node selector both allow: either one when the other has no terms, else the cross
    product of their terms (terms are ORed, a term's expressions ANDed, so each template term
    joined with each Dataset term keeps both constraints)."""
    template_terms = list((template or {}).get("nodeSelectorTerms") or [])
    dataset_terms = list((dataset or {}).get("nodeSelectorTerms") or [])
    if not dataset_terms:
        return copy.deepcopy(template) if template_terms else None
    if not template_terms:
        return copy.deepcopy(dataset)
    terms = [_join(left, right) for left in template_terms for right in dataset_terms]
    return {"nodeSelectorTerms": terms}


def _join(left: Obj, right: Obj) -> Obj:
    term: Obj = {}
    for key in ("matchExpressions", "matchFields"):
        joined = [*(left.get(key) or []), *(right.get(key) or [])]
        if joined:
            term[key] = copy.deepcopy(joined)
    return term


def dataset_tolerations(spec: DatasetSpec, own: list[Any] | None = None) -> list[Any]:
    """A component's tolerations: the Dataset's (every component's pods may need to run on the
    tainted nodes the Dataset is meant for), then the component's own."""
    return [*(spec.tolerations or []), *(own or [])]


def cache_affinity(pod_spec: Obj) -> Obj | None:
    """`status.cacheAffinity`: the node affinity of the workers' pod spec with its nodeSelector
    folded in as `In` expressions (into every required term, or as the only term), so an
    application or a FUSE client can ask for the nodes near the cache in one node affinity.
    None when the workers are not constrained or drawn anywhere."""
    node = copy.deepcopy((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
    selector: Mapping[str, str] = pod_spec.get("nodeSelector") or {}
    expressions = [
        {"key": key, "operator": "In", "values": [value]} for key, value in selector.items()
    ]
    terms = list((node.get(REQUIRED) or {}).get("nodeSelectorTerms") or [])
    if expressions:
        terms = [_join(term, {"matchExpressions": expressions}) for term in terms or [{}]]
    result: Obj = {}
    if terms:
        result[REQUIRED] = {"nodeSelectorTerms": terms}
    if node.get(PREFERRED):
        result[PREFERRED] = node[PREFERRED]
    return result or None
