"""`make dev` and `make clean-cluster` agree on a cluster named after the checkout, so two clones
on one machine never share a cluster; DEV_CLUSTER overrides the name for both."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def planned(target: str, checkout: Path, *variables: str) -> str:
    """The commands `make` would run for `target` in `checkout`, without running them."""
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "-f", str(REPO / "Makefile"), target, *variables],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def dev_cluster(checkout: Path, *variables: str) -> str:
    (name,) = re.findall(r"hack/dev\.py --cluster (\S+)", planned("dev", checkout, *variables))
    return name


def test_the_dev_cluster_is_named_after_the_checkout(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").touch()  # another checkout, as far as make can tell
    here = dev_cluster(REPO)

    assert re.fullmatch(r"fluidpy-dev-[0-9a-f]{8}", here)
    assert dev_cluster(tmp_path) != here
    assert dev_cluster(REPO) == here


def test_clean_cluster_deletes_the_cluster_make_dev_uses() -> None:
    deleted = re.findall(r"cluster delete --name (\S+)", planned("clean-cluster", REPO))

    assert deleted == [dev_cluster(REPO)]


def test_dev_cluster_overrides_the_name_for_both() -> None:
    assert dev_cluster(REPO, "DEV_CLUSTER=mine") == "mine"
    assert "cluster delete --name mine" in planned("clean-cluster", REPO, "DEV_CLUSTER=mine")


def test_make_image_without_a_container_engine_says_what_to_install(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("sed",):  # what the recipe needs besides the shell's builtins
        found = shutil.which(tool)
        assert found, tool
        (tools / tool).symlink_to(found)
    make = shutil.which("make")
    assert make

    result = subprocess.run(
        [make, "image"],
        cwd=REPO,
        env={"PATH": str(tools)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "error: no container engine found; install docker, podman or buildah" in result.stderr
