"""Group, version and kind: the name of an API type, as the server spells it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class GVK:
    """An API type; hashable, so it keys caches, informers and mapping tables.

    The core group is the empty string, as in the API: Pods are GVK("", "v1", "Pod").
    """

    group: str
    version: str
    kind: str

    @staticmethod
    def of(api_version: str, kind: str) -> GVK:
        """Split an apiVersion ("apps/v1", or "v1" for the core group)."""
        group, slash, version = api_version.rpartition("/")
        if not version or (slash and not group):
            raise ValueError(f"malformed apiVersion {api_version!r}")
        return GVK(group, version, kind)

    @staticmethod
    def of_object(obj: Mapping[str, Any]) -> GVK:
        """The type of an object from its apiVersion and kind fields."""
        try:
            api_version, kind = obj["apiVersion"], obj["kind"]
        except KeyError as missing:
            raise ValueError(f"object has no {missing.args[0]} field") from None
        return GVK.of(api_version, kind)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        return f"{self.api_version}, Kind={self.kind}"
