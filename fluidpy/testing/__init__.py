"""The testing kit: a real local control plane and pytest fixtures for it, and FakeClient, an
in-memory client for unit tests."""

from fluidpy.testing._binaries import Binaries, BinariesNotFound, find_binaries
from fluidpy.testing.fake_client import FakeClient, ObjectStore
from fluidpy.testing.localcluster import ClusterStartError, LocalCluster
from fluidpy.testing.waiting import wait_for

__all__ = [
    "Binaries",
    "BinariesNotFound",
    "ClusterStartError",
    "FakeClient",
    "LocalCluster",
    "ObjectStore",
    "find_binaries",
    "wait_for",
]
