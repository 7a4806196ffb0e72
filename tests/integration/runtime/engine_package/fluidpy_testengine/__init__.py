"""A deliberately small engine, installed (as far as Python can tell) as a third-party package.

It runs a master and a worker StatefulSet, reports readiness from their status, binds the
Dataset and creates its volume with the shared helpers. The annotation
`testengine.fluidpy.io/fail-in: <method>` makes that Implement method raise, so tests can show
what a failing engine does to conditions, events and other runtimes.
"""

from __future__ import annotations

from typing import Any

from fluidpy.client import GVK
from fluidpy.engines.base import BaseImplement, ReconcileRequestContext, TemplateEngine
from fluidpy.engines.base.status import bind_dataset, phase_of, workload_counts
from fluidpy.engines.base.volume import create_volume, delete_volume

STATEFULSET = GVK("apps", "v1", "StatefulSet")
FAIL_ANNOTATION = "testengine.fluidpy.io/fail-in"


class InjectedFailure(RuntimeError):
    pass


def _failing(name: str) -> Any:
    def decorate(method: Any) -> Any:
        def wrapper(self: TestEngine, *args: Any) -> Any:
            annotations = self.ctx.runtime["metadata"].get("annotations") or {}
            if annotations.get(FAIL_ANNOTATION) == name:
                raise InjectedFailure(f"injected failure in {name}")
            return method(self, *args)

        wrapper.__name__ = name
        return wrapper

    return decorate


class TestEngine(BaseImplement):
    """BaseImplement's answers, but for what the tests make fail."""

    def _statefulset(self, role: str, replicas: int) -> dict[str, Any]:
        labels = {"app": "testengine", "release": self.ctx.name, "role": role}
        return {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": f"{self.ctx.name}-{role}",
                "namespace": self.ctx.namespace,
                "labels": labels,
                "ownerReferences": [self.ctx.owner_reference],
            },
            "spec": {
                "replicas": replicas,
                "serviceName": f"{self.ctx.name}-{role}",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [{"name": role, "image": "registry.example/testengine:1"}]
                    },
                },
            },
        }

    def _workload(self, role: str) -> dict[str, Any] | None:
        return self.ctx.client.get(STATEFULSET, f"{self.ctx.name}-{role}", self.ctx.namespace)

    def _ready(self, role: str, status_field: str) -> bool:
        desired, ready = workload_counts(self._workload(role))
        phase = phase_of(desired, ready) if self._workload(role) else "NotReady"
        self.ctx.runtime_status[status_field] = phase
        return phase == "Ready" or (role == "worker" and ready > 0)

    @_failing("should_setup_master")
    def should_setup_master(self) -> bool:
        return self._workload("master") is None

    @_failing("setup_master")
    def setup_master(self) -> None:
        self.ctx.client.apply(self._statefulset("master", 1), ctx=self.ctx.ctx)

    @_failing("check_master_ready")
    def check_master_ready(self) -> bool:
        return self._ready("master", "masterPhase")

    @_failing("should_setup_workers")
    def should_setup_workers(self) -> bool:
        return self._workload("worker") is None

    @_failing("setup_workers")
    def setup_workers(self) -> None:
        replicas = int(self.ctx.spec.get("replicas", 1))
        self.ctx.client.apply(self._statefulset("worker", replicas), ctx=self.ctx.ctx)

    @_failing("check_workers_ready")
    def check_workers_ready(self) -> bool:
        return self._ready("worker", "workerPhase")

    @_failing("check_and_update_runtime_status")
    def check_and_update_runtime_status(self) -> bool:
        return True

    @_failing("bind_to_dataset")
    def bind_to_dataset(self) -> None:
        bind_dataset(self.ctx, "testengine")

    @_failing("create_volume")
    def create_volume(self, ctx: ReconcileRequestContext) -> None:
        create_volume(
            ctx,
            self.info,
            fuse_path=self.info.fuse_mount_path(ctx.mount_root, "fuse"),
            mount_type="testengine",
        )

    @_failing("delete_volume")
    def delete_volume(self, ctx: ReconcileRequestContext) -> None:
        delete_volume(ctx, self.info)

    @_failing("shutdown")
    def shutdown(self) -> None:
        """The workloads are owned by the runtime: garbage collection removes them."""

    @_failing("sync_replicas")
    def sync_replicas(self, ctx: ReconcileRequestContext) -> None:
        """Setup already applied the replicas."""

    @_failing("validate")
    def validate(self, ctx: ReconcileRequestContext) -> None:
        """Every spec is valid for the test engine."""


def build(engine_id: str, ctx: ReconcileRequestContext) -> TemplateEngine:
    return TemplateEngine(TestEngine, engine_id)
