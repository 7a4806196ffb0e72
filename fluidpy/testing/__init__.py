"""The testing kit: a real local control plane and pytest fixtures for it."""

from fluidpy.testing._binaries import Binaries, BinariesNotFound, find_binaries
from fluidpy.testing.localcluster import ClusterStartError, LocalCluster
from fluidpy.testing.waiting import wait_for

__all__ = [
    "Binaries",
    "BinariesNotFound",
    "ClusterStartError",
    "LocalCluster",
    "find_binaries",
    "wait_for",
]
