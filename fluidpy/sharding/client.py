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
applied before takes over their field ownership: it merges their Apply entries' fields into its
own and removes theirs, and if that gave it fields its rendering does not set, applies again,
which removes them. Otherwise a field the rendering stopped setting would outlive the move.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fluidpy.client import GVK, ApiServerConnection, Client, Conflict, Invalid, NotFound
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
        connection: ApiServerConnection,
        *,
        ring: RingConfig,
        shard: str,
        field_manager: str = "fluidpy",
        **options: Any,
    ) -> None:
        super().__init__(
            connection, field_manager=shard_field_manager(field_manager, shard), **options
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
        stamped = self._stamped(obj)
        applied = super().apply(stamped, force=force, ctx=ctx)
        if self._take_over_fields(applied, ctx):
            # Fields the previous shard applied and this rendering does not set are now ours:
            # applying again removes them, as it would have had this shard applied them.
            applied = super().apply(stamped, force=True, ctx=ctx)
        return applied

    def _stamped(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._ring.owner_group(obj) is None:
            return obj
        stamped = copy.deepcopy(dict(obj))
        metadata = stamped.setdefault("metadata", {})
        metadata["labels"] = {**(metadata.get("labels") or {}), **self._stamp}
        return stamped

    def _take_over_fields(self, applied: dict[str, Any], ctx: Context | None) -> bool:
        """Make the other ring managers' applied fields this shard's; True when that gave it
        fields its own apply did not set."""
        metadata = applied.get("metadata") or {}
        takeover = field_takeover(
            metadata.get("managedFields") or [],
            self.field_manager,
            self._ring_managers,
            datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        if takeover is None:
            return False
        gvk = GVK.of_object(applied)
        where = f"{gvk.kind} {metadata.get('namespace') or ''}/{metadata['name']}"
        try:
            self.patch(
                gvk,
                metadata["name"],
                metadata.get("namespace"),
                takeover.patch,
                patch_type="json",
                ctx=ctx,
            )
        except (Conflict, Invalid, NotFound) as error:
            # Changed since the apply: the next apply looks again.
            self._log.info("field ownership not taken over yet", object=where, reason=error.reason)
            return False
        self._log.info("took over field ownership", object=where, previous=takeover.previous)
        return takeover.gained


@dataclass(frozen=True)
class FieldTakeover:
    patch: list[dict[str, Any]]
    """A JSON patch of managedFields; its `test` operations make it apply only to the entries
    it was computed from."""
    previous: list[str]
    """The managers whose Apply entries it removes."""
    gained: bool
    """Whether they owned fields the taking manager did not."""


def field_takeover(
    entries: Sequence[Mapping[str, Any]], manager: str, ring_managers: str, now: str
) -> FieldTakeover | None:
    """Merge the main resource's Apply entries of the ring's other managers (`ring_managers`
    and `ring_managers-*`) into `manager`'s, dated `now` (RFC 3339), and drop theirs; None
    when there are none (or `manager` has no Apply entry to merge into)."""

    def applied_by(entry: Mapping[str, Any]) -> str | None:
        if entry.get("operation") != "Apply" or entry.get("subresource"):
            return None
        return str(entry.get("manager") or "")

    mine = next((i for i, e in enumerate(entries) if applied_by(e) == manager), None)
    stale = [
        i
        for i, entry in enumerate(entries)
        if (name := applied_by(entry)) is not None
        and name != manager
        and is_ring_manager(name, ring_managers)
    ]
    if mine is None or not stale:
        return None
    own = entries[mine].get("fieldsV1") or {}
    union = own
    for index in stale:
        union = _merged(union, entries[index].get("fieldsV1") or {})
    path = f"/metadata/managedFields/{mine}"
    patch: list[dict[str, Any]] = [
        {"op": "test", "path": f"{path}/manager", "value": manager},
        {"op": "replace", "path": f"{path}/fieldsV1", "value": union},
        # The API server keeps an entry a client changed without its time unless given one.
        {"op": "add", "path": f"{path}/time", "value": now},
    ]
    for index in reversed(stale):
        path = f"/metadata/managedFields/{index}"
        patch.append({"op": "test", "path": f"{path}/manager", "value": entries[index]["manager"]})
        patch.append({"op": "remove", "path": path})
    previous = [str(entries[index]["manager"]) for index in stale]
    return FieldTakeover(patch, previous, gained=union != own)


def _merged(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The union of two field sets (fieldsV1: nested objects, a field's presence is its key)."""
    merged = dict(a)
    for key, value in b.items():
        merged[key] = _merged(merged[key], value) if key in merged else value
    return merged


def is_ring_manager(manager: str, field_manager: str) -> bool:
    """Whether `manager` is the ring's unsharded manager or one of its shards'."""
    return manager == field_manager or manager.startswith(f"{field_manager}-")
