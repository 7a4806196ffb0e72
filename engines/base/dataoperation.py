"""Data operations (DataLoad) as an engine sees them, and the Job that runs one.

Upstream splits a data operation between the operation's controller (phases, locking the
Dataset, watching the Job) and the runtime's engine (the loader itself, rendered as Helm values
of the engine's loader chart). fluidpy keeps that split without Helm: the engine answers one
question, `Engine.data_operation_pod_spec`, with the loader's pod spec (image, command, env,
volumes), and `loader_job` wraps it in the Job every engine shares: name, owner, labels,
backoffLimit, restart policy, and the DataLoad's own scheduling fields.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from fluidpy.api.v1alpha1.dataload import DataLoadSpec, TargetPath
from fluidpy.engines.base.errors import EngineError

DATA_LOAD = "DataLoad"

BACKOFF_LIMIT = 3
"""Retries of a failed loader pod before the Job fails (upstream's chart default)."""

ROLE_LABEL = "role"
LOADER_POD_ROLE = "dataload-pod"
"""Upstream's loader pod label; the local cluster's kwok stages finish pods that carry it."""
RELEASE_LABEL = "release"
DATASET_LABEL = "targetDataset"
OPERATION_LABEL = "data.fluid.io/operation"
"""`<namespace>-<operation name>`: finds the Jobs of one operation (a Cron one has several)."""


class DataOperationError(EngineError):
    """The engine cannot run this operation as specified: the operation fails, and its
    condition (this reason and message, which names the fix) says why. Not retried."""

    reason = "DataOperationNotSupported"


@dataclass(frozen=True)
class DataOperation:
    """One run of a data operation, as the engine renders its loader."""

    kind: str
    """The operation kind, e.g. DataLoad; engines refuse kinds they do not run."""
    name: str
    namespace: str
    spec: DataLoadSpec
    job_name: str
    """The Job this run is; also the loader's Helm release name upstream."""

    def targets(self) -> list[TargetPath]:
        """The paths to load, each with its replicas; the whole Dataset when none are given."""
        return [
            TargetPath(path=t.path, replicas=t.replicas or 1)
            for t in (self.spec.target or [TargetPath(path="/")])
        ]

    def load_metadata(self) -> bool:
        return bool(self.spec.load_metadata)

    def options(self) -> dict[str, str]:
        return dict(self.spec.options or {})

    def refuse_options(self, understood: frozenset[str], engine: str) -> None:
        """Raise for option keys this engine's loader does not understand (they would be
        silently ignored otherwise)."""
        unknown = sorted(set(self.options()) - understood)
        if unknown:
            known = ", ".join(sorted(understood)) or "none"
            raise DataOperationError(
                f"spec.options {', '.join(unknown)} are not understood by the {engine} loader "
                f"(it understands: {known}); remove them",
                reason="DataOperationNotValid",
            )


def loader_job(
    operation: DataOperation,
    pod_spec: dict[str, Any],
    owner: dict[str, Any],
) -> dict[str, Any]:
    """The Job that runs `pod_spec` once for `operation`, owned by the operation object.

    The operation's podMetadata, affinity, tolerations, nodeSelector, schedulerName and
    resources apply to the pod here, for every engine; the engine's pod spec wins for anything
    else it sets.
    """
    spec = operation.spec
    labels = {
        RELEASE_LABEL: operation.job_name,
        ROLE_LABEL: "dataload-job",
        DATASET_LABEL: spec.dataset.name if spec.dataset else "",
        OPERATION_LABEL: f"{operation.namespace}-{operation.name}",
    }
    pod_metadata = spec.pod_metadata
    pod_labels = {
        **((pod_metadata.labels if pod_metadata else None) or {}),
        **labels,
        ROLE_LABEL: LOADER_POD_ROLE,
    }
    pod: dict[str, Any] = {"restartPolicy": "Never", **copy.deepcopy(pod_spec)}
    scheduling = {
        "affinity": spec.affinity,
        "tolerations": spec.tolerations,
        "nodeSelector": spec.node_selector,
        "schedulerName": spec.scheduler_name,
    }
    pod.update({key: value for key, value in scheduling.items() if value})
    if spec.resources:
        for container in pod.get("containers") or []:
            container.setdefault("resources", copy.deepcopy(spec.resources))
    template_metadata: dict[str, Any] = {"labels": pod_labels}
    annotations = pod_metadata.annotations if pod_metadata else None
    if annotations:
        template_metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": operation.job_name,
            "namespace": operation.namespace,
            "labels": labels,
            "ownerReferences": [owner],
        },
        "spec": {
            "backoffLimit": BACKOFF_LIMIT,
            "completions": 1,
            "parallelism": 1,
            "template": {"metadata": template_metadata, "spec": pod},
        },
    }


def paths_and_replicas(operation: DataOperation) -> tuple[str, str]:
    """Target paths and their replicas, each `:`-joined, as upstream's loaders read them."""
    targets = operation.targets()
    return ":".join(t.path for t in targets), ":".join(str(t.replicas) for t in targets)
