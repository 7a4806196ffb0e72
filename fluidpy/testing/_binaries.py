"""Finding the control-plane binaries a LocalCluster runs.

Three sources, in order: an explicit directory (FLUIDPY_LOCALCLUSTER_BIN), envtest's assets
(KUBEBUILDER_ASSETS: etcd and kube-apiserver only, so no workload controllers and no nodes), and
the build cache that hack/localcluster/build.sh fills.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
REQUIRED = ("etcd", "kube-apiserver")


class BinariesNotFound(RuntimeError):
    """No usable control plane: the message says how to build or point at one."""


def cache_root() -> Path:
    """The cache build.sh writes to; it honours the same variables."""
    explicit = os.environ.get("FLUIDPY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "fluidpy"


@dataclass(frozen=True)
class Binaries:
    """Paths of the component binaries; a missing optional component is None."""

    directory: Path
    paths: dict[str, Path]
    kwok_stages: Path | None

    def path(self, component: str) -> Path | None:
        return self.paths.get(component)

    @property
    def full(self) -> bool:
        """True when workload controllers, the scheduler and fake nodes can all run."""
        return all(name in self.paths for name in COMPONENTS) and self.kwok_stages is not None


def _from_directory(directory: Path, kwok_stages: Path | None) -> Binaries:
    paths = {
        name: directory / name
        for name in COMPONENTS
        if (directory / name).is_file() and os.access(directory / name, os.X_OK)
    }
    missing = [name for name in REQUIRED if name not in paths]
    if missing:
        raise BinariesNotFound(
            f"{directory} has no executable {' or '.join(missing)}; point the variable at a "
            "directory holding the control-plane binaries, or unset it to use the build cache."
        )
    stages = kwok_stages if kwok_stages is not None and kwok_stages.is_file() else None
    return Binaries(directory, paths, stages)


def find_binaries() -> Binaries:
    explicit = os.environ.get("FLUIDPY_LOCALCLUSTER_BIN")
    if explicit:
        directory = Path(explicit)
        return _from_directory(directory, directory.parent / "kwok-stages.yaml")
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        return _from_directory(Path(assets), None)
    current = cache_root() / "localcluster" / "current"
    if (current / "complete").is_file():
        return _from_directory(current / "bin", current / "kwok-stages.yaml")
    raise BinariesNotFound(
        "no local control plane has been built yet. Build it once with "
        "`make cluster-binaries` (or hack/localcluster/build.sh; needs Go >= 1.26, about "
        "15 minutes the first time), or set KUBEBUILDER_ASSETS to envtest's binaries, or "
        "USE_EXISTING_CLUSTER=true with KUBECONFIG to use a cluster you already run."
    )
