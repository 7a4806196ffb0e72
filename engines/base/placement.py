"""Where a Dataset's workers may run, as upstream Fluid places them.

Every engine's workers carry the labels these rules match, so placement holds across runtime
kinds: an Exclusive Dataset's worker never shares a node with any other Dataset's worker, a
Shared one's never shares with an Exclusive one's.
"""

from __future__ import annotations

from typing import Any

from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.runtime_info import EXCLUSIVE, RuntimeInfo

DATASET_LABEL = "fluid.io/dataset"
PLACEMENT_LABEL = "fluid.io/dataset-placement"
HOSTNAME_TOPOLOGY = "kubernetes.io/hostname"
FUSE_AFFINITY_WEIGHT = 100
SHARED_SPREAD_WEIGHT = 50

Obj = dict[str, Any]


def worker_affinity(info: RuntimeInfo, spec: DatasetSpec) -> Obj:
    """Where workers may go, as upstream places them: one per node for an Exclusive Dataset
    (and never beside another Dataset's workers), spread but shareable for a Shared one,
    preferably on nodes where applications use the Dataset, and only on the nodes the
    Dataset's nodeAffinity allows."""
    exists = {"key": DATASET_LABEL, "operator": "Exists"}
    if info.placement == EXCLUSIVE:
        pod_anti: Obj = {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchExpressions": [exists]}, "topologyKey": HOSTNAME_TOPOLOGY}
            ]
        }
    else:
        exclusive = {"key": PLACEMENT_LABEL, "operator": "In", "values": [EXCLUSIVE]}
        pod_anti = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": SHARED_SPREAD_WEIGHT,
                    "podAffinityTerm": {
                        "labelSelector": {"matchExpressions": [exists]},
                        "topologyKey": HOSTNAME_TOPOLOGY,
                    },
                }
            ],
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchExpressions": [exclusive]},
                    "topologyKey": HOSTNAME_TOPOLOGY,
                }
            ],
        }
    node: Obj = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": FUSE_AFFINITY_WEIGHT,
                "preference": {
                    "matchExpressions": [
                        {"key": info.fuse_label, "operator": "In", "values": ["true"]}
                    ]
                },
            }
        ]
    }
    required = (spec.node_affinity.required if spec.node_affinity else None) or None
    if required:
        node["requiredDuringSchedulingIgnoredDuringExecution"] = required
    return {"podAntiAffinity": pod_anti, "nodeAffinity": node}
