"""Which runtimes depend on which class and Secrets, to wake them when those appear or change.

A CacheRuntimeClass or a Secret carries no reference back to the runtimes using it, so the
runtime controller's watches on those kinds need a map from the object to its runtimes. Every
reconcile records what its runtime uses (its class, the Secrets its Dataset's encryptOptions
name); the maps read that record. A runtime not reconciled yet is missing from it, which is
harmless: its own creation reconciles it, and that pass records it before it looks for the class
or the Secrets.

The record is a few strings per runtime, where an index over cached CacheRuntimes and Datasets
would need those objects' informers to carry one more index each.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from fluidpy.client import SECRET
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, NAME_LABEL, POD

RuntimeKey = tuple[str, str]
"""(namespace, name) of a CacheRuntime."""


class Dependents:
    """Runtime -> (class, Secrets) and the reverse maps; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uses: dict[RuntimeKey, tuple[str, frozenset[str]]] = {}
        self._by_class: defaultdict[str, set[RuntimeKey]] = defaultdict(set)
        self._by_secret: defaultdict[tuple[str, str], set[RuntimeKey]] = defaultdict(set)

    def record(self, namespace: str, name: str, class_name: str, secrets: Iterable[str]) -> None:
        key = (namespace, name)
        uses = (class_name, frozenset(secrets))
        with self._lock:
            if self._uses.get(key) == uses:
                return
            self._drop(key)
            self._uses[key] = uses
            self._by_class[class_name].add(key)
            for secret in uses[1]:
                self._by_secret[(namespace, secret)].add(key)

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._drop((namespace, name))

    def _drop(self, key: RuntimeKey) -> None:
        uses = self._uses.pop(key, None)
        if uses is None:
            return
        class_name, secrets = uses
        self._discard(self._by_class, class_name, key)
        for secret in secrets:
            self._discard(self._by_secret, (key[0], secret), key)

    @staticmethod
    def _discard(index: defaultdict[Any, set[RuntimeKey]], value: Any, key: RuntimeKey) -> None:
        keys = index.get(value)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del index[value]

    def runtimes_of_class(self, class_name: str) -> list[RuntimeKey]:
        with self._lock:
            return sorted(self._by_class.get(class_name, ()))

    def runtimes_of_secret(self, namespace: str, secret: str) -> list[RuntimeKey]:
        with self._lock:
            return sorted(self._by_secret.get((namespace, secret), ()))


DEPENDENTS = Dependents()
"""The process's record, shared by every CacheRuntime engine and the controller's watches."""


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = obj.get("metadata") or {}
    return metadata


def runtimes_of_class(obj: dict[str, Any]) -> list[RuntimeKey]:
    return DEPENDENTS.runtimes_of_class(_metadata(obj).get("name", ""))


def runtimes_of_secret(obj: dict[str, Any]) -> list[RuntimeKey]:
    metadata = _metadata(obj)
    return DEPENDENTS.runtimes_of_secret(metadata.get("namespace", ""), metadata.get("name", ""))


def runtime_of_pod(obj: dict[str, Any]) -> list[RuntimeKey]:
    """A component pod names its runtime in a label (its workload's owner is the runtime)."""
    metadata = _metadata(obj)
    name = (metadata.get("labels") or {}).get(NAME_LABEL)
    return [(metadata.get("namespace", ""), name)] if name else []


def secondary_watches() -> list[tuple[Any, ...]]:
    """The watches beyond owned objects: classes, Secrets and the components' pods (only
    those: every pod read of the engine selects by NAME_LABEL, which implies its presence)."""
    return [
        (CLASS_GVK, runtimes_of_class),
        (SECRET, runtimes_of_secret),
        (POD, runtime_of_pod, NAME_LABEL),
    ]
