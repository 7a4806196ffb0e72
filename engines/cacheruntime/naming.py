"""Names, labels and paths of everything a CacheRuntime produces.

One place holds them because three audiences read them: the renderers, the validation that
refuses names Kubernetes would reject later (and less clearly), and the cache system's own
scripts, which find their peers and files through exactly these strings.
"""

from __future__ import annotations

import hashlib
from typing import Final, Literal

from fluidpy.client import GVK
from fluidpy.engines.base.runtime_info import fuse_mount_path

GROUP: Final = "data.fluid.io"
VERSION: Final = "v1alpha1"
RUNTIME_GVK: Final = GVK(GROUP, VERSION, "CacheRuntime")
CLASS_GVK: Final = GVK(GROUP, VERSION, "CacheRuntimeClass")
DATASET_GVK: Final = GVK(GROUP, VERSION, "Dataset")
STATEFULSET: Final = GVK("apps", "v1", "StatefulSet")
DAEMONSET: Final = GVK("apps", "v1", "DaemonSet")
DEPLOYMENT: Final = GVK("apps", "v1", "Deployment")
SERVICE: Final = GVK("", "v1", "Service")
CONFIGMAP: Final = GVK("", "v1", "ConfigMap")
POD: Final = GVK("", "v1", "Pod")
NODE: Final = GVK("", "v1", "Node")

WORKLOAD_KINDS: Final = {gvk.kind: gvk for gvk in (STATEFULSET, DAEMONSET, DEPLOYMENT)}
"""The workload kinds a class may choose, by kind name (all apps/v1)."""

FINALIZER: Final = "cache-runtime-controller-finalizer"
"""Upstream Fluid's finalizer name, so objects made by either controller can be handed over."""

RUNTIME_TYPE: Final = "cache"
"""The runtime type in paths, node labels, PV attributes and the Dataset's runtimes[] entry."""

Component = Literal["master", "worker", "client"]
COMPONENTS: Final[tuple[Component, ...]] = ("master", "worker", "client")

NAME_LABEL: Final = "cacheruntime.fluid.io/name"
COMPONENT_LABEL: Final = "cacheruntime.fluid.io/component-name"

CONFIG_KEY: Final = "runtime.json"
CONFIG_DIR: Final = "/etc/fluid/config"
CONFIG_PATH: Final = f"{CONFIG_DIR}/{CONFIG_KEY}"
SECRETS_DIR: Final = "/etc/fluid/secrets"
FUSE_DIRECTORY: Final = "cache-fuse"

CONFIG_VOLUME: Final = "fluid-runtime-config"
FUSE_VOLUME: Final = "fluid-cache-fuse"
SECRET_VOLUME_PREFIX: Final = "fluid-secret-"
EXTRA_VOLUME_PREFIX: Final = "fluid-extra-"
TIERED_VOLUME_PREFIX: Final = "fluid-tiered-store-"

NAME_LIMIT: Final = 63
"""DNS-1035/1123 labels: Service names, pod host names, label values."""
STATEFULSET_NAME_LIMIT: Final = 52
"""A StatefulSet's pods carry the label controller-revision-hash=<set name>-<hash of up to 10
characters>; a longer set name makes every pod creation fail, long after the set was accepted."""


def workload_name(name: str, component: str) -> str:
    """`<name>-<component>`: the workload, its headless Service and its pods' prefix."""
    return f"{name}-{component}"


def config_map_name(name: str) -> str:
    return f"fluid-runtime-config-{name}"


def selector_labels(name: str, component: str) -> dict[str, str]:
    """The labels that select a component's pods (on the workload, its pods and its Service)."""
    return {NAME_LABEL: name, COMPONENT_LABEL: component}


def pod_selector(name: str, component: str | None = None) -> str:
    """The label selector of the runtime's pods (of one component, when given)."""
    labels = selector_labels(name, component) if component else {NAME_LABEL: name}
    return ",".join(f"{key}={value}" for key, value in labels.items())


def secret_mount_path(secret: str) -> str:
    return f"{SECRETS_DIR}/{secret}"


def secret_file(secret: str, key: str) -> str:
    """Where a component reads one key of a Secret named by the Dataset's encryptOptions."""
    return f"{secret_mount_path(secret)}/{key}"


def secret_volume_name(secret: str) -> str:
    """`fluid-secret-<secret>`, shortened as `_volume_name` says."""
    return _volume_name(SECRET_VOLUME_PREFIX, secret)


def extra_volume_name(name: str, config_map: str) -> str:
    """`fluid-extra-<runtime name>-<config map>`, upstream's name for a class's extra ConfigMap
    mounted in a component, shortened as `_volume_name` says."""
    return _volume_name(EXTRA_VOLUME_PREFIX, f"{name}-{config_map}")


def _volume_name(prefix: str, stem: str) -> str:
    """`<prefix><stem>`, or a shortened, hashed form when the stem (built from names that are
    DNS subdomains: dots, up to 253 characters) would not make a valid volume name (a DNS
    label of at most 63 characters)."""
    candidate = f"{prefix}{stem}"
    if len(candidate) <= NAME_LIMIT and "." not in stem:
        return candidate
    digest = hashlib.sha256(stem.encode()).hexdigest()[:8]
    room = NAME_LIMIT - len(prefix) - len(digest) - 1
    short = stem.replace(".", "-")[:room].rstrip("-")
    return f"{prefix}{short}-{digest}"


def tiered_volume_name(level: int) -> str:
    return f"{TIERED_VOLUME_PREFIX}{level}"


def target_path(mount_root: str, namespace: str, name: str) -> str:
    """Where the client mounts the cache on a node: `<MOUNT_ROOT>/cache/<ns>/<name>/cache-fuse`,
    the path Fluid's CSI plugin looks for (it reads it from the PV's fluid_path)."""
    return fuse_mount_path(mount_root, RUNTIME_TYPE, namespace, name, FUSE_DIRECTORY)


def name_limit(kind: str) -> int:
    """The longest workload name of `kind` whose pods Kubernetes can still create."""
    return STATEFULSET_NAME_LIMIT if kind == STATEFULSET.kind else NAME_LIMIT
