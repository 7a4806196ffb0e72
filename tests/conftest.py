"""The session's local cluster starts with fluidpy's CRDs installed.

fluidpy's own tests call the plugin's fixtures by short names: `cluster`, `connection` and
`namespace` are this project's aliases of `fluidpy_cluster`, `fluidpy_connection` and
`fluidpy_namespace`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fluidpy.api import crdgen
from fluidpy.client import ApiServerConnection
from fluidpy.testing.localcluster import LocalCluster
from fluidpy.testing.realnode import host_limitations

pytest_plugins = ["fluidpy.testing.pytest_plugin"]

REAL_NODE_LIMITS = host_limitations()
"""tests/realnode needs Linux, root, overlay and FUSE (CI has them all). Elsewhere they are not
collected, and the run's summary says why, once; everything else runs."""
collect_ignore = ["realnode"] if REAL_NODE_LIMITS else []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REAL_NODE_LIMITS:
        terminalreporter.write_line(
            "tests/realnode not run: this host lacks " + "; ".join(REAL_NODE_LIMITS),
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def fluidpy_cluster_crds() -> list[dict[str, Any]]:
    return crdgen.crds()


EXEC_SCRIPTS = Path(__file__).resolve().parent / "exec-scripts"


@pytest.fixture(scope="session")
def fluidpy_exec_path() -> list[Path]:
    return [EXEC_SCRIPTS]


@pytest.fixture(scope="session")
def exec_scripts() -> Path:
    """The directory of the commands a pod on a fake node runs (tests/exec-scripts/README.md);
    for a test that needs one by absolute path."""
    return EXEC_SCRIPTS


@pytest.fixture(scope="session")
def cluster_crds(fluidpy_cluster_crds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return fluidpy_cluster_crds


@pytest.fixture(scope="session")
def cluster(fluidpy_cluster: LocalCluster) -> LocalCluster:
    return fluidpy_cluster


@pytest.fixture(scope="session")
def connection(fluidpy_connection: ApiServerConnection) -> ApiServerConnection:
    return fluidpy_connection


@pytest.fixture
def namespace(fluidpy_namespace: str) -> Iterator[str]:
    yield fluidpy_namespace


DASHBOARD = Path(__file__).resolve().parents[1] / "config" / "grafana" / "fluidpy.json"
PROMQL_WORDS = {"sum", "by", "without", "rate", "increase", "histogram_quantile", "max", "min"}
"""The aggregations and functions config/grafana/fluidpy.json uses; any other word a query
holds outside label matchers, groupings and ranges names a metric."""


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL query reads."""
    text = re.sub(r"\{[^}]*\}|\[[^]]*\]", "", expr)
    text = re.sub(r"\b(by|without)\s*\([^)]*\)", "", text)
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text))
    return words - PROMQL_WORDS


@pytest.fixture(scope="session")
def promql_reader() -> Callable[[str], set[str]]:
    return promql_metrics


@pytest.fixture(scope="session")
def dashboard_metrics() -> dict[str, set[str]]:
    """Every query of the Grafana dashboard, with the metrics it reads."""
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets") or []
    ]
    assert queries, f"{DASHBOARD} has no queries"
    return {expr: promql_metrics(expr) for expr in queries}


@pytest.fixture
def fluidpy_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs `fluidpy <args>` in a new process, as a user would; returns what it printed."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fluidpy_cli.main", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run
