"""What one reconcile of a runtime hands to its engine.

Upstream's engines keep the context of their first build and re-read everything from the API
server; ours receive a fresh ReconcileRequestContext on every pass instead, so an engine always
sees the runtime and Dataset as this reconcile read them, from the informer cache.

Status is written once per pass: engines change `runtime_status` and `dataset_status` (working
copies), and the RuntimeReconciler patches whatever changed at the end, as a Cluster API
reconcile does. That keeps a pass to a handful of API requests and makes every step repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fluidpy.client import deep_copy
from fluidpy.context import Context

if TYPE_CHECKING:
    from fluidpy.client import Client
    from fluidpy.events import EventRecorder

ACCELERATE_CATEGORY = "Accelerate"
DEFAULT_MOUNT_ROOT = "/runtime-mnt"
DEFAULT_SYNC_INTERVAL = 5.0


DEFAULT_CONFIG_WRITE_INTERVAL = 2.0
"""Short enough that peers learn of a new pod within a couple of seconds, long enough to fold a
burst of pod events into one write."""


@dataclass(frozen=True)
class EngineOptions:
    """The manager's settings every engine reads, fixed at start-up and handed to each pass."""

    mount_root: str = DEFAULT_MOUNT_ROOT
    """Where FUSE mounts live on the nodes: upstream's chart default, which Fluid's CSI plugin
    is deployed with (`--mount-root`, default $MOUNT_ROOT)."""
    sync_interval: float = DEFAULT_SYNC_INTERVAL
    """Seconds between an engine's slow probes (metadata, cache figures, UFS changes): often
    enough for figures a person watches, rare enough to be cheap (`--sync-interval`, default
    $FLUID_SYNC_RETRY_DURATION, else 5 s as upstream)."""
    config_write_interval: float = DEFAULT_CONFIG_WRITE_INTERVAL
    """Seconds between two writes of a CacheRuntime's runtime config, which lists every pod:
    a burst of pod events folds into one write ($FLUID_RUNTIME_CONFIG_WRITE_INTERVAL,
    default 2 s; 0 writes every change)."""
    image_variables: Mapping[str, str] = field(default_factory=dict)
    """Upstream's variables that replace an engine's default images (ALLUXIO_RUNTIME_IMAGE_ENV
    and the like: every variable named `*_IMAGE_ENV` the manager started with); each engine
    reads the ones it names (default none: the engines' own defaults)."""
    cache_node_exclude_selector: str = ""
    """A label selector of nodes never labelled as cache nodes, for nodes whose labels another
    system manages (upstream's $SCHEDULE_INFO_EXCLUDE_NODE_SELECTOR; default none)."""


@dataclass
class ReconcileRequestContext:
    """One reconcile pass of runtime <namespace>/<name> (the Dataset of the same name)."""

    ctx: Context
    namespace: str
    name: str
    runtime_type: str
    runtime: dict[str, Any]
    dataset: dict[str, Any] | None
    client: Client
    recorder: EventRecorder
    log: Any
    finalizer_name: str
    category: str = ACCELERATE_CATEGORY
    options: EngineOptions = field(default_factory=EngineOptions)
    runtime_status: dict[str, Any] = field(default_factory=dict)
    dataset_status: dict[str, Any] | None = None
    told: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Runtime and Dataset status ("runtime", "dataset") as this pass last told them as
    milestones (controllers.progress); until then, as the pass read them."""

    def __post_init__(self) -> None:
        if not self.runtime_status:
            self.runtime_status = deep_copy(self.runtime.get("status") or {})
        if self.dataset is not None and self.dataset_status is None:
            self.dataset_status = deep_copy(self.dataset.get("status") or {})

    @property
    def mount_root(self) -> str:
        return self.options.mount_root

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.runtime.get("spec") or {}
        return spec

    @property
    def dataset_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = (self.dataset or {}).get("spec") or {}
        return spec

    @property
    def owner_reference(self) -> dict[str, Any]:
        """The controller owner reference every object an engine creates carries."""
        metadata = self.runtime["metadata"]
        return {
            "apiVersion": self.runtime["apiVersion"],
            "kind": self.runtime["kind"],
            "name": metadata["name"],
            "uid": metadata["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def event(self, type_: str, reason: str, message: str) -> None:
        """An event on the runtime."""
        self.recorder.event(self.runtime, type_, reason, message)
