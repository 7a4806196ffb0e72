"""The manager starts without importing the official `kubernetes` package.

Importing any part of it imports every generated model: 7-19 MiB of resident memory and most
of a second of start-up (docs/performance.md). fluidpy talks to the API server through its own
connection layer; only a pod exec loads the package, when one runs. A fresh interpreter is the
only honest place to look at sys.modules, so the manager is built in a subprocess, against a
loopback server answering the one discovery request building it makes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.api import crdgen

FLUID_DISCOVERY = "/apis/data.fluid.io/v1alpha1"

BUILD_THE_MANAGER = """
import sys

from fluidpy.client.config import load_connection
from fluidpy_cli.main import build_parser
from fluidpy_cli.manager import build_manager

args = build_parser().parse_args(["manager", "--kubeconfig", sys.argv[1]])
build_manager(args, lambda: load_connection(args.kubeconfig))
print(sorted(name for name in sys.modules if name.partition(".")[0] == "kubernetes"))
"""


@pytest.fixture
def discovery_server(loopback_server: Callable[..., str]) -> str:
    """Serves the discovery document of fluidpy's own kinds; 404 for anything else (no
    flowcontrol group, so the manager keeps a client-side limit)."""
    resources = [
        {
            "name": crd["spec"]["names"]["plural"],
            "kind": crd["spec"]["names"]["kind"],
            "namespaced": crd["spec"]["scope"] == "Namespaced",
        }
        for crd in crdgen.crds()
    ]

    def answer(path: str, headers: Mapping[str, str]) -> tuple[int, Any]:
        if path == FLUID_DISCOVERY:
            return 200, {"resources": resources}
        return 404, {"kind": "Status", "code": 404}

    return loopback_server(answer)


def test_building_the_manager_with_every_controller_leaves_kubernetes_unimported(
    tmp_path: Path, discovery_server: str
) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": discovery_server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )

    built = subprocess.run(
        [sys.executable, "-c", BUILD_THE_MANAGER, str(kubeconfig)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert built.returncode == 0, built.stderr
    assert built.stdout.strip().splitlines()[-1] == "[]"
