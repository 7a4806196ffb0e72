"""The client a shard's controllers use: it labels what they create and writes under the
shard's own name.

Objects created or applied with a controller owner of one of the ring's main kinds get the
shard label, so each shard's informers of those kinds select only its own objects. Reads are
the cache's: an object of such a kind that the filtered cache does not hold is absent as far as
this shard is concerned. That is exact for every object of a group the shard holds, because the
sharder labels a group's controlled objects for the new shard before its main objects, so a
shard never works on a group whose controlled objects are labelled for another (see
fluidpy.sharding.drain). What the filtered cache cannot see is objects that are not ours (made
by someone else, or another group's under a colliding name), and those a controller must never
write: a create of a name the cache does not hold goes out unforced, and the API server refuses
it if the name is taken (engines.base.ownership looks the name up live first).

Every write names the shard in managedFields (`<field manager>-<shard id>`), so an object's
managedFields tell which shards wrote it, and when last. Server-side apply keeps a field while
any manager owns it, so a shard that applies an object another shard (or an unsharded manager)
applied before takes over their field ownership: it removes their Apply entries, or a field
its rendering no longer sets would outlive the move.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from fluidpy.client import GVK, Client, Conflict, Invalid, NotFound
from fluidpy.context import Context
from fluidpy.log import get_logger
from fluidpy.sharding.config import RingConfig
from fluidpy.sharding.labels import shard_label


def shard_field_manager(field_manager: str, shard: str) -> str:
    return f"{field_manager}-{shard}"


class ShardClient(Client):
    """A Client (same arguments, plus the ring and this shard's id); see the module docstring.
    `field_manager` is the ring's base name; the client writes as `<field_manager>-<shard>`."""

    def __init__(
        self,
        api_client: Any,
        *,
        ring: RingConfig,
        shard: str,
        field_manager: str = "fluidpy",
        **options: Any,
    ) -> None:
        super().__init__(
            api_client, field_manager=shard_field_manager(field_manager, shard), **options
        )
        self._ring = ring
        self._stamp = {shard_label(ring.name): shard}
        self._ring_managers = field_manager
        self._log = get_logger("fluidpy.sharding", ring=ring.name, shard=shard)

    def create(self, obj: Mapping[str, Any], *, ctx: Context | None = None) -> dict[str, Any]:
        return super().create(self._stamped(obj), ctx=ctx)

    def apply(
        self, obj: Mapping[str, Any], *, force: bool = True, ctx: Context | None = None
    ) -> dict[str, Any]:
        applied = super().apply(self._stamped(obj), force=force, ctx=ctx)
        self._take_over_fields(applied, ctx)
        return applied

    def _stamped(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._ring.owner_group(obj) is None:
            return obj
        stamped = copy.deepcopy(dict(obj))
        metadata = stamped.setdefault("metadata", {})
        metadata["labels"] = {**(metadata.get("labels") or {}), **self._stamp}
        return stamped

    def _take_over_fields(self, applied: dict[str, Any], ctx: Context | None) -> None:
        """Remove other shards' (and an unsharded manager's) Apply entries from `applied`."""
        metadata = applied.get("metadata") or {}
        entries = metadata.get("managedFields") or []
        stale = [
            (index, entry["manager"])
            for index, entry in enumerate(entries)
            if entry.get("operation") == "Apply"
            and entry.get("manager") != self.field_manager
            and is_ring_manager(str(entry.get("manager")), self._ring_managers)
        ]
        if not stale:
            return
        patch: list[dict[str, Any]] = []
        for index, manager in reversed(stale):
            path = f"/metadata/managedFields/{index}"
            patch.append({"op": "test", "path": f"{path}/manager", "value": manager})
            patch.append({"op": "remove", "path": path})
        gvk = GVK.of_object(applied)
        try:
            self.patch(
                gvk,
                metadata["name"],
                metadata.get("namespace"),
                patch,
                patch_type="json",
                ctx=ctx,
            )
        except (Conflict, Invalid, NotFound) as error:
            # Changed since the apply: the next apply looks again.
            self._log.info("field ownership not taken over yet", reason=error.reason)
            return
        self._log.info(
            "took over field ownership",
            object=f"{gvk.kind} {metadata.get('namespace') or ''}/{metadata['name']}",
            previous=[manager for _, manager in stale],
        )


def is_ring_manager(manager: str, field_manager: str) -> bool:
    """Whether `manager` is the ring's unsharded manager or one of its shards'."""
    return manager == field_manager or manager.startswith(f"{field_manager}-")
