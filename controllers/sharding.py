"""Fluid's ring: what `fluidpy manager --shards` shards, and in which order.

A group is a Dataset and the runtimes of the same namespace/name (a runtime serves the Dataset
it is named after), plus every object those runtimes own. The Dataset comes first: runtimes
read it, so it is assigned before them and drained after them.
"""

from __future__ import annotations

from collections.abc import Sequence

from fluidpy.controllers.kinds import DATASET, RuntimeKind
from fluidpy.sharding import RingConfig


def fluid_ring(name: str, kinds: Sequence[RuntimeKind]) -> RingConfig:
    owned = dict.fromkeys(gvk for kind in kinds for gvk in kind.owned)
    return RingConfig(
        name=name,
        main_kinds=(DATASET, *(kind.gvk for kind in kinds)),
        controlled_kinds=tuple(owned),
    )
