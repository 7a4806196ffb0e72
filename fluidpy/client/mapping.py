"""REST mapping: from a kind to the URL path of its objects.

A URL names the resource (the lower-case plural) and, for namespaced kinds, the namespace; the
kind alone gives neither. The built-in table covers the kinds controllers use every day, so
common calls never wait for discovery. Other kinds (custom resources above all) are looked up
through API discovery once per group version and remembered. A kind missing from a remembered
group version is looked up again once before giving up, because its CRD may have been installed
since the last look.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fluidpy.client.errors import NotFound
from fluidpy.client.gvk import GVK
from fluidpy.context import Context


@dataclass(frozen=True, slots=True)
class RESTMapping:
    gvk: GVK
    plural: str
    namespaced: bool


class NoKindMatch(LookupError):
    """The API server does not serve this kind (a CRD not installed, a typo in the group)."""

    def __init__(self, gvk: GVK) -> None:
        super().__init__(f"the API server does not serve {gvk}")
        self.gvk = gvk


def _table(*rows: tuple[str, str, str, str, bool]) -> dict[GVK, RESTMapping]:
    return {
        GVK(group, version, kind): RESTMapping(GVK(group, version, kind), plural, namespaced)
        for group, version, kind, plural, namespaced in rows
    }


BUILTIN_MAPPINGS: dict[GVK, RESTMapping] = _table(
    ("", "v1", "Pod", "pods", True),
    ("", "v1", "Service", "services", True),
    ("", "v1", "Endpoints", "endpoints", True),
    ("", "v1", "ConfigMap", "configmaps", True),
    ("", "v1", "Secret", "secrets", True),
    ("", "v1", "Namespace", "namespaces", False),
    ("", "v1", "Node", "nodes", False),
    ("", "v1", "Event", "events", True),
    ("", "v1", "PersistentVolume", "persistentvolumes", False),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
    ("", "v1", "ServiceAccount", "serviceaccounts", True),
    ("apps", "v1", "StatefulSet", "statefulsets", True),
    ("apps", "v1", "DaemonSet", "daemonsets", True),
    ("apps", "v1", "Deployment", "deployments", True),
    ("apps", "v1", "ReplicaSet", "replicasets", True),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    ("coordination.k8s.io", "v1", "Lease", "leases", True),
    ("events.k8s.io", "v1", "Event", "events", True),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
)


def group_version_path(group: str, version: str) -> str:
    """The discovery document of a group version, and the prefix of its resources' paths."""
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def resource_path(
    mapping: RESTMapping,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """The URL path of a collection (no name) or of one object (and maybe its subresource).

    `namespace` is ignored for cluster-scoped kinds, and may be None for a namespaced collection
    to mean "in every namespace"; a namespaced object needs one.
    """
    gvk = mapping.gvk
    parts = [group_version_path(gvk.group, gvk.version)]
    if mapping.namespaced and namespace:
        parts.append(f"namespaces/{_segment(namespace)}")
    elif mapping.namespaced and name is not None:
        raise ValueError(f"{gvk.kind} {name!r} is namespaced: a namespace is required")
    parts.append(mapping.plural)
    if name is not None:
        parts.append(_segment(name))
        if subresource:
            parts.append(subresource)
    elif subresource:
        raise ValueError("a subresource needs an object name")
    return "/".join(parts)


def _segment(value: str) -> str:
    if not value or value in (".", ".."):
        raise ValueError(f"invalid path segment {value!r}")
    return quote(value, safe="")


def mappings_from_discovery(
    group: str, version: str, document: dict[str, Any]
) -> list[RESTMapping]:
    """The kinds an APIResourceList serves; subresources ("pods/status") are not kinds."""
    return [
        RESTMapping(GVK(group, version, str(r["kind"])), str(r["name"]), bool(r["namespaced"]))
        for r in document.get("resources") or ()
        if "/" not in str(r.get("name", "/"))
    ]


Fetch = Callable[[str, Context | None], dict[str, Any]]


class RESTMapper:
    """Kinds to mappings: the built-in table first, then discovery, cached per group version.

    `fetch(path, ctx)` GETs a discovery document (raising NotFound for an unknown group
    version); the Client passes its own transport so discovery obeys the same QPS limit.
    """

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._discovered: dict[tuple[str, str], dict[str, RESTMapping]] = {}

    def mapping(self, gvk: GVK, ctx: Context | None = None) -> RESTMapping:
        builtin = BUILTIN_MAPPINGS.get(gvk)
        if builtin is not None:
            return builtin
        group_version = (gvk.group, gvk.version)
        with self._lock:
            known = self._discovered.get(group_version)
        if known is not None and gvk.kind in known:
            return known[gvk.kind]
        known = self._discover(group_version, ctx)
        if gvk.kind not in known:
            raise NoKindMatch(gvk)
        return known[gvk.kind]

    def _discover(
        self, group_version: tuple[str, str], ctx: Context | None
    ) -> dict[str, RESTMapping]:
        group, version = group_version
        try:
            document = self._fetch(group_version_path(group, version), ctx)
        except NotFound:
            document = {}
        found = {m.gvk.kind: m for m in mappings_from_discovery(group, version, document)}
        with self._lock:
            self._discovered[group_version] = found
        return found
