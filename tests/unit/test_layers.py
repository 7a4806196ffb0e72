"""Imports point one way only (docs/architecture.md): fluidpy <- api <- engines <- controllers.

fluidpy is a generic framework and never learns about Fluid; engines never reach into the
controllers that drive them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "fluidpy": {"api", "engines", "controllers", "fluidpy_cli"},
    "api": {"engines", "controllers", "fluidpy_cli"},
    "engines": {"controllers", "fluidpy_cli"},
    "controllers": {"fluidpy_cli"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(package: str) -> None:
    offences = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (REPO / package).rglob("*.py")
    }
    assert {path: bad for path, bad in offences.items() if bad} == {}
