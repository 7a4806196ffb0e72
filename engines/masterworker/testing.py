"""Testing an engine on a real cluster: what every engine's integration tests need.

`EngineHarness` creates objects in a test's namespace and waits for what a user would watch
for (the Dataset Bound, a status field, the runtime gone and nothing left behind);
`exec_transport` points an engine package's CLI at a test double for the duration of a block.
Like fluidpy.testing, this is shipped code, so a third-party engine's tests can use it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from fluidpy.client import GVK, Client
from fluidpy.engines.base.exec import PodExec
from fluidpy.engines.base.nodes import NODE
from fluidpy.engines.base.volume import PV, PVC
from fluidpy.engines.masterworker.engine import OWNED_KINDS, POD
from fluidpy.testing import wait_for

DATASET = GVK("data.fluid.io", "v1alpha1", "Dataset")
EVENT = GVK("", "v1", "Event")


class EnginePackage(Protocol):
    """Whatever holds the CLI transport of the engines it builds (engines.alluxio.PACKAGE)."""

    exec_transport: PodExec | None


@contextlib.contextmanager
def exec_transport(engine_package: EnginePackage, transport: PodExec) -> Iterator[PodExec]:
    """Engines the package builds inside the block run their CLI through `transport`."""
    previous = engine_package.exec_transport
    engine_package.exec_transport = transport
    try:
        yield transport
    finally:
        engine_package.exec_transport = previous


class EngineHarness:
    """One runtime kind, in one namespace, through a live (uncached) client."""

    def __init__(self, client: Client, namespace: str, runtime: GVK) -> None:
        self.client = client.live
        self.namespace = namespace
        self.runtime_gvk = runtime

    def create(self, *objects: dict[str, Any]) -> None:
        for obj in objects:
            metadata = {**obj["metadata"], "namespace": self.namespace}
            self.client.create({**obj, "metadata": metadata})

    def runtime(self, name: str) -> dict[str, Any] | None:
        return self.client.get(self.runtime_gvk, name, self.namespace)

    def dataset(self, name: str) -> dict[str, Any] | None:
        return self.client.get(DATASET, name, self.namespace)

    def wait_dataset(
        self, name: str, test: Callable[[dict[str, Any]], bool], what: str, timeout: float = 90
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            dataset = self.dataset(name)
            return dataset if dataset is not None and test(dataset.get("status") or {}) else None

        return wait_for(probe, f"Dataset {self.namespace}/{name}: {what}", timeout=timeout)

    def wait_bound(self, name: str, timeout: float = 90) -> dict[str, Any]:
        return self.wait_dataset(name, lambda s: s.get("phase") == "Bound", "Bound", timeout)

    def owned(self, uid: str) -> list[tuple[str, str]]:
        """(kind, name) of every object the runtime with `uid` controls in the namespace."""
        found = []
        for gvk in OWNED_KINDS:
            for obj in self.client.list(gvk, self.namespace):
                owners = obj["metadata"].get("ownerReferences") or []
                if any(o.get("uid") == uid and o.get("controller") for o in owners):
                    found.append((gvk.kind, obj["metadata"]["name"]))
        return sorted(found)

    def labelled_nodes(self, label: str) -> set[str]:
        nodes = self.client.list(NODE, label_selector=label)
        return {node["metadata"]["name"] for node in nodes}

    def pods(self, selector: str) -> list[dict[str, Any]]:
        return self.client.list(POD, self.namespace, label_selector=selector)

    def events(self, name: str, reason: str) -> list[dict[str, Any]]:
        return [
            event
            for event in self.client.list(EVENT, self.namespace)
            if event.get("reason") == reason
            and (event.get("involvedObject") or {}).get("name") == name
        ]

    def delete_runtime_and_wait(self, name: str, timeout: float = 90) -> None:
        """Delete the runtime and wait until it, its volume and its workloads are gone."""
        runtime = self.runtime(name)
        assert runtime is not None, f"runtime {self.namespace}/{name} does not exist"
        uid = runtime["metadata"]["uid"]
        self.client.delete(self.runtime_gvk, name, self.namespace)
        wait_for(lambda: self.runtime(name) is None, f"runtime {name} to go", timeout=timeout)
        wait_for(
            lambda: (
                self.client.get(PVC, name, self.namespace) is None
                and self.client.get(PV, f"{self.namespace}-{name}") is None
            ),
            f"the volume of {name} to go",
            timeout=timeout,
        )
        wait_for(lambda: not self.owned(uid), f"the objects of {name} to go", timeout=timeout)
