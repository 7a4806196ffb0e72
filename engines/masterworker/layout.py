"""Names and labels of a master/worker/FUSE runtime's objects.

One place decides them, so the renderers, the status code (which reads the workloads back) and
the scale subresource's selector can never disagree. Names are ours (`<name>-master`,
`<name>-worker`, `<name>-fuse`); labels keep upstream's chart conventions (`app`, `release`,
`role`, `fluid.io/dataset-id`, and on workers `fluid.io/dataset` and
`fluid.io/dataset-placement`, which the worker anti-affinity rules match).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fluidpy.engines.base.runtime_info import DATASET_ID_LABEL, RuntimeInfo, dataset_id

MASTER = "master"
WORKER = "worker"
FUSE = "fuse"
MANAGED_BY_LABEL = "fluid.io/managed-by"


@dataclass(frozen=True)
class Layout:
    """`app` is the cache system's chart label (`alluxio`, `jindofs`)."""

    name: str
    namespace: str
    app: str
    dataset_uid: str = ""
    """The owning Dataset's UID, for label values `<ns>-<name>` too long for a label."""

    @classmethod
    def of(cls, info: RuntimeInfo, app: str) -> Layout:
        return cls(info.name, info.namespace, app, info.owner_dataset_uid)

    @property
    def dataset_id(self) -> str:
        """The `fluid.io/dataset-id` label value: `<ns>-<name>`, or the Dataset's UID when that
        would not fit a label value (as upstream)."""
        return dataset_id(self.namespace, self.name, self.dataset_uid)

    @property
    def master(self) -> str:
        return f"{self.name}-{MASTER}"

    @property
    def workers(self) -> str:
        return f"{self.name}-{WORKER}"

    @property
    def fuse(self) -> str:
        return f"{self.name}-{FUSE}"

    @property
    def master_service(self) -> str:
        """The headless Service governing the master StatefulSet (stable pod DNS names)."""
        return self.master

    def master_pod(self, index: int = 0) -> str:
        return f"{self.master}-{index}"

    def master_host(self, index: int = 0) -> str:
        """The DNS name of one master pod, through the governing Service."""
        return f"{self.master_pod(index)}.{self.master_service}.{self.namespace}.svc"

    def role(self, component: str) -> str:
        return f"{self.app}-{component}"

    def selector(self, component: str) -> dict[str, str]:
        return {"app": self.app, "release": self.name, "role": self.role(component)}

    def labels(self, component: str) -> dict[str, str]:
        return {
            **self.selector(component),
            DATASET_ID_LABEL: self.dataset_id,
            MANAGED_BY_LABEL: "fluid",
            "app.kubernetes.io/name": self.app,
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/component": component,
        }

    def selector_text(self, component: str) -> str:
        """`selector()` in the API's string form."""
        return ",".join(f"{key}={value}" for key, value in self.selector(component).items())

    @property
    def worker_selector(self) -> str:
        """The worker pods' label selector, as the scale subresource reads it from status."""
        return self.selector_text(WORKER)


def pods_selector(app: str) -> str:
    """Selects the pods of every runtime of the cache system `app`; every selector of one
    runtime's pods (`selector()`) implies it, so the engine's reads are served by the watch
    made with it."""
    return f"app={app},release"


def pods_of(app: str) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    """Maps a pod to the runtime it belongs to (by its `app` and `release` labels), so a
    controller can wake the runtime when one of its pods changes."""

    def runtimes(pod: dict[str, Any]) -> list[tuple[str, str]]:
        metadata = pod.get("metadata") or {}
        labels = metadata.get("labels") or {}
        if labels.get("app") != app or not labels.get("release"):
            return []
        return [(str(metadata.get("namespace", "")), str(labels["release"]))]

    return runtimes
