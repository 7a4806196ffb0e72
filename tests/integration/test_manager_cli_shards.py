"""`fluidpy manager --shards`: the same controllers, on a manager that is one shard of a ring.

Building the controllers needs discovery, hence the local control plane; nothing is started."""

from __future__ import annotations

import pytest

from fluidpy.controllers.kinds import CACHE_RUNTIME, DATASET, STATEFULSET
from fluidpy.engines.base.volume import PVC
from fluidpy.manager import Manager
from fluidpy.testing import LocalCluster
from fluidpy_cli.main import build_parser
from fluidpy_cli.manager import build_manager

pytestmark = pytest.mark.integration


def manager_for(cluster: LocalCluster, *flags: str) -> Manager:
    args = build_parser().parse_args(["manager", "--leader-election-namespace=ns", *flags])
    return build_manager(args, cluster.connection)


def test_a_shard_elects_itself_on_its_own_lease_and_caches_only_its_objects(
    cluster: LocalCluster, crds: list[str]
) -> None:
    manager = manager_for(cluster, "--shards", "--shard-id=s1")
    options = manager.options
    assert options.leader_election
    assert (options.leader_election_id, options.leader_election_identity) == ("fluidpy-s1", "s1")
    for gvk in (DATASET, CACHE_RUNTIME.gvk, STATEFULSET):
        assert manager.cache.informer_for(gvk).label_selector == "shard.fluidpy.io/fluidpy=s1"
    assert manager.cache.informer_for(PVC).label_selector is None
    assert manager.client.field_manager == "fluidpy-s1", "managedFields tell shards apart"


def test_without_shards_the_manager_is_unchanged(cluster: LocalCluster, crds: list[str]) -> None:
    manager = manager_for(cluster)
    assert not manager.options.leader_election
    assert manager.options.leader_election_id == "fluidpy.data.fluid.io"
    assert manager.cache.informer_for(DATASET).label_selector is None
    assert manager.client.field_manager == "fluidpy"
