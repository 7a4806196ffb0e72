"""The session's local cluster starts with fluidpy's CRDs installed."""

from __future__ import annotations

from typing import Any

import pytest

from api import crdgen


@pytest.fixture(scope="session")
def cluster_crds() -> list[dict[str, Any]]:
    return crdgen.crds()
