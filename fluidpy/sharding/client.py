"""The client a shard's controllers use: it labels what they create, and sees past its filter.

Objects created or applied with a controller owner of one of the ring's main kinds get the
shard label, so each shard's informers of those kinds can select only its own objects. A read
of such a kind that the filtered cache cannot answer asks the API server: the object may exist
unlabelled (made by someone else, which the controller must see in order to leave it alone) or
still labelled for the shard that had the group before (the sharder relabels it shortly).
Objects that exist and are ours are answered from the cache as usual, so this costs a request
only for objects that are missing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fluidpy.client import GVK, Client
from fluidpy.context import Context
from fluidpy.sharding.config import RingConfig
from fluidpy.sharding.labels import shard_label


class ShardClient(Client):
    """A Client (same arguments, plus the ring and this shard's id); see the module docstring."""

    def __init__(self, api_client: Any, *, ring: RingConfig, shard: str, **options: Any) -> None:
        super().__init__(api_client, **options)
        self._ring = ring
        self._stamp = {shard_label(ring.name): shard}
        self._filtered = frozenset(ring.controlled_kinds)

    def create(self, obj: Mapping[str, Any], *, ctx: Context | None = None) -> dict[str, Any]:
        return super().create(self._stamped(obj), ctx=ctx)

    def apply(
        self, obj: Mapping[str, Any], *, force: bool = True, ctx: Context | None = None
    ) -> dict[str, Any]:
        return super().apply(self._stamped(obj), force=force, ctx=ctx)

    def get(
        self, gvk: GVK, name: str, namespace: str | None = None, *, ctx: Context | None = None
    ) -> dict[str, Any] | None:
        found = super().get(gvk, name, namespace, ctx=ctx)
        if found is None and gvk in self._filtered and self.cache is not None:
            return self.live.get(gvk, name, namespace, ctx=ctx)
        return found

    def _stamped(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._ring.owner_group(obj) is None:
            return obj
        stamped = copy.deepcopy(dict(obj))
        metadata = stamped.setdefault("metadata", {})
        metadata["labels"] = {**(metadata.get("labels") or {}), **self._stamp}
        return stamped
