"""Running the example's test on its own (`pytest` in this folder, fluidpy[testing] installed,
this package installed): a local control plane with Fluid's CRDs, from fluidpy's test kit."""

from typing import Any

import pytest

from fluidpy.api import crdgen

pytest_plugins = ["fluidpy.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def fluidpy_cluster_crds() -> list[dict[str, Any]]:
    return crdgen.crds()
