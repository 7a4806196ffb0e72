"""A ring's configuration, and which group an object belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fluidpy.client import GVK
from fluidpy.sharding.ring import DEFAULT_VIRTUAL_NODES


@dataclass(frozen=True)
class RingConfig:
    """What a ring shards.

    Objects are grouped by namespace/name: an object of a main kind is in the group of its own
    namespace/name, a controlled object in that of its controller owner (when the owner is of a
    main kind). Kinds that are meant to land together must therefore share names, as Fluid's
    runtimes share their Dataset's; a whole group always lives on one shard.
    """

    name: str
    """Names the labels, the shard Leases (`<name>-<shard id>`) and the metrics."""
    main_kinds: tuple[GVK, ...]
    """The kinds the sharder assigns, in the order it assigns them; it drains them in the
    reverse order, so list a kind before the kinds whose reconcilers read it."""
    controlled_kinds: tuple[GVK, ...] = ()
    """Kinds the shards create with a controller owner of a main kind: labelled at creation,
    relabelled by the sharder when their group moves, and cached by each shard only for its
    own groups."""
    virtual_nodes: int = DEFAULT_VIRTUAL_NODES
    """Points per shard on the hash ring (see fluidpy.sharding.ring)."""

    def __post_init__(self) -> None:
        if not self.name or not self.main_kinds:
            raise ValueError("a ring needs a name and at least one main kind")

    def rank(self, gvk: GVK) -> int | None:
        return self.main_kinds.index(gvk) if gvk in self.main_kinds else None

    def owner_group(self, obj: Mapping[str, Any]) -> str | None:
        """The group of a controlled object: its controller owner's, if that is a main kind."""
        metadata = obj.get("metadata") or {}
        for ref in metadata.get("ownerReferences") or ():
            if ref.get("controller") is not True:
                continue
            try:
                owner = GVK.of(ref.get("apiVersion", ""), ref.get("kind", ""))
            except ValueError:
                return None
            if any(k.group == owner.group and k.kind == owner.kind for k in self.main_kinds):
                return f"{metadata.get('namespace') or ''}/{ref.get('name')}"
            return None
        return None


def own_group(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return f"{metadata.get('namespace') or ''}/{metadata.get('name')}"
