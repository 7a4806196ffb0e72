"""What the manager's cache keeps of each kind: the fields fluidpy's engines read, no more.

A runtime's cached objects are most of the manager's memory at scale (docs/performance.md, "At
scale"), and most of each is what kube-controller-manager and the kubelet need, not what the
engines read: a StatefulSet's pod template, a Pod's containers, volumes and tolerations. So the
cache keeps, per kind, a whitelist of field paths (fluidpy.informer.keeping; apiVersion, kind
and metadata are always kept), each listed below with the readers that need it; of
PersistentVolumes and their claims, it keeps the metadata alone. A reader of a
field not listed gets None from the cache: whoever adds such a reader adds its path here, and
tests/unit/controllers/test_cache_views.py pins each list.

Writes are unaffected: objects are rendered whole and server-side applied. Whether a rendering
must be applied again is decided on the hash annotation every rendering carries and, for the
CacheRuntime engine, on whether the live spec covers the rendering; a trimmed spec cannot show
that, so the Applier falls back to metadata.generation, which counts spec changes
(engines/cacheruntime/apply.py). The Alluxio and Jindo engines compare the hash alone.

Kinds not listed are kept whole (with the default transform): ConfigMaps (the debounced config
writer and the Applier compare their `data`, which is most of them), Services (about 2 KiB;
the Applier compares their spec in full, which a trimmed copy could not show), Jobs, the
custom resources (the reconcilers read them whole).
"""

from __future__ import annotations

from fluidpy.cache import KindOptions
from fluidpy.client import GVK
from fluidpy.controllers.kinds import DAEMONSET, DEPLOYMENT, POD, STATEFULSET
from fluidpy.engines.base.volume import PV, PVC
from fluidpy.informer import keeping

WORKLOAD_FIELDS = (
    # component_state (cacheruntime), _counts and sync_replicas (masterworker),
    # base.status.workload_counts: desired pods against ready ones.
    "spec.replicas",
    # CacheRuntime's _replace_if_immutable_changed: a StatefulSet's serviceName cannot change.
    "spec.serviceName",
    # status.cacheAffinity: worker_cache_affinity (cacheruntime) and _node_affinity
    # (masterworker) fold the workers' node affinity and nodeSelector into it
    # (base.placement.cache_affinity; pod affinities are not part of it).
    "spec.template.spec.affinity.nodeAffinity",
    "spec.template.spec.nodeSelector",
    # Readiness and rollout progress: every engine's component status, the cache release on
    # deletion (the master's readyReplicas).
    "status",
)
"""StatefulSets, DaemonSets and Deployments. The pod template, about nine tenths of each, goes:
no engine reads a live template except its placement."""

POD_FIELDS = (
    # Container 0 is where mountUFS and reportSummary run (execution._run) and whose start
    # tells a restarted master (execution.running_container).
    "spec.containers.name",
    # The nodes running workers become cache nodes (base.nodes.scheduled_nodes).
    "spec.nodeName",
    # Running, finished or neither: the exec target (first_pod), the runtime config's
    # topology (topology._current), cache nodes.
    "status.phase",
    # The runtime config lists every pod with its IP (topology.pod_configs).
    "status.podIP",
    # PodScheduled=False explains missing pods in the component's condition (unschedulable);
    # Ready=True counts a pod ready before its workload's status does (component_state).
    "status.conditions.type",
    "status.conditions.status",
    "status.conditions.reason",
    "status.conditions.message",
    # When the master container started and how often it restarted (running_container,
    # masterworker _container_started); not its image or container ids.
    "status.containerStatuses.name",
    "status.containerStatuses.restartCount",
    "status.containerStatuses.state",
)
"""The engines' workload Pods (the only Pods cached). Metadata stays whole: labels map a pod to
its runtime and component, ownerReferences to its workload (placement.worker_nodes),
deletionTimestamp marks it leaving, uid names the master container."""

PERSISTENT_VOLUME = KindOptions(metadata_only=True)
"""PersistentVolumes are cluster-scoped, so the manager caches every PV of the cluster whatever
`--namespace` says. They are watched so that a PV of a name a runtime needs that is not its own
wakes it when it changes or goes (ownership.CONFLICTS, which reads names), and the CacheRuntime
engine checks the volume only while PVs are cached (engine._cached). Nothing reads a PV's
contents from the cache: creating and deleting one read it from the API server
(base.volume)."""

PERSISTENT_VOLUME_CLAIM = KindOptions(metadata_only=True)
"""A runtime's claim is read from the cache for its existence and owner (base.volume.
create_volume, ownership.check_name_free), the FUSE generation label it carries
(_keep_generation_label) and whether a deleted Dataset still has one (the Dataset controller);
its events wake the runtime named like it. All of that is metadata."""

CACHE_VIEWS: dict[GVK, KindOptions] = {
    STATEFULSET: KindOptions(transform=keeping(*WORKLOAD_FIELDS)),
    DAEMONSET: KindOptions(transform=keeping(*WORKLOAD_FIELDS)),
    DEPLOYMENT: KindOptions(transform=keeping(*WORKLOAD_FIELDS)),
    POD: KindOptions(transform=keeping(*POD_FIELDS)),
    PV: PERSISTENT_VOLUME,
    PVC: PERSISTENT_VOLUME_CLAIM,
}
"""The manager's per-kind cache options (ManagerOptions.cache_kinds)."""
