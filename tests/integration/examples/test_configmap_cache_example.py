"""examples/configmap-cache, the engine docs/writing-an-engine.md opens with, as a user gets it.

The example is installed with pip (offline, no dependencies: fluidpy is already here) into a
directory of its own, which the manager process finds through PYTHONPATH; the manager loads the
engine only through its `fluidpy.engines` entry point. The example's own test then runs as it
is: a Dataset bound to the ConfigMap cache, and nothing left once the runtime is deleted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "configmap-cache"

sys.path.insert(0, str(EXAMPLE))
from test_configmap_cache import (  # noqa: E402
    test_the_dataset_binds_to_its_configmap_and_all_goes_with_the_runtime,
)

sys.path.remove(str(EXAMPLE))

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("configmap_cache_installed")]

__all__ = ["test_the_dataset_binds_to_its_configmap_and_all_goes_with_the_runtime"]


@pytest.fixture(scope="module")
def configmap_cache_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example, pip-installed into a fresh directory that PYTHONPATH names."""
    source, target = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLE, source, dirs_exist_ok=True)  # pip builds in the source tree
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*pip, "--no-build-isolation", "--target", str(target), str(source)], check=True)
    assert (target / "fluidpy_configmap_cache.py").exists()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(target))
        yield target
