"""Missing prerequisites produce one clear message that says the fix, never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fluidpy.testing import BinariesNotFound, find_binaries

REPO = Path(__file__).resolve().parents[2]


def test_build_without_go_says_what_is_missing_and_how_to_fix_it(tmp_path: Path) -> None:
    path_without_go = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "go").exists()
    )
    result = subprocess.run(
        ["bash", str(REPO / "hack/localcluster/build.sh")],
        env={**os.environ, "PATH": path_without_go, "FLUIDPY_CACHE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "no Go toolchain" in result.stderr
    assert "Install it" in result.stderr
    assert result.stdout == ""


def test_without_any_control_plane_the_error_names_the_three_ways_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("FLUIDPY_LOCALCLUSTER_BIN", "KUBEBUILDER_ASSETS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FLUIDPY_CACHE_DIR", str(tmp_path))

    with pytest.raises(BinariesNotFound) as error:
        find_binaries()

    message = str(error.value)
    assert "make cluster-binaries" in message
    assert "KUBEBUILDER_ASSETS" in message
    assert "USE_EXISTING_CLUSTER" in message


def test_envtest_assets_without_kube_apiserver_are_rejected_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etcd = tmp_path / "etcd"
    etcd.write_text("#!/bin/sh\n")
    etcd.chmod(0o755)
    monkeypatch.delenv("FLUIDPY_LOCALCLUSTER_BIN", raising=False)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))

    with pytest.raises(BinariesNotFound, match="kube-apiserver"):
        find_binaries()
