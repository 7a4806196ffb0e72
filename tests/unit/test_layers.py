"""Imports point one way only (docs/architecture.md): fluidpy <- api <- engines <- controllers.

fluidpy's framework is generic and never learns about Fluid; engines never reach into the
controllers that drive them. Fluid's layers live at the repository root and are installed as
fluidpy.api, fluidpy.engines and fluidpy.controllers; nothing is installed beside fluidpy except
the CLI package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FLUID_LAYERS = {"fluidpy.api", "fluidpy.engines", "fluidpy.controllers"}
FORBIDDEN = {
    "fluidpy": FLUID_LAYERS | {"fluidpy_cli"},
    "api": {"fluidpy.engines", "fluidpy.controllers", "fluidpy_cli"},
    "engines": {"fluidpy.controllers", "fluidpy_cli"},
    "controllers": {"fluidpy_cli"},
}
# What an unqualified import of these names would be: a package of somebody else's.
OLD_TOP_LEVEL = {"api", "engines", "controllers"}


def layer(module: str) -> str:
    """`fluidpy.engines.base.x` -> `fluidpy.engines`; `fluidpy.client` -> `fluidpy`."""
    parts = module.split(".")
    if parts[0] == "fluidpy" and len(parts) > 1 and f"fluidpy.{parts[1]}" in FLUID_LAYERS:
        return f"fluidpy.{parts[1]}"
    return parts[0]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(layer(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(layer(node.module))
    return found


def python_files(package: str) -> list[Path]:
    """The package's own files; the Fluid layers linked into fluidpy/ are checked on their own."""
    root = REPO / package
    links = [root / name.removeprefix("fluidpy.") for name in FLUID_LAYERS]
    return [p for p in root.rglob("*.py") if not any(p.is_relative_to(link) for link in links)]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(package: str) -> None:
    offences = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in python_files(package)
    }
    assert {path: bad for path, bad in offences.items() if bad} == {}


def test_nothing_imports_the_fluid_layers_by_their_folder_names() -> None:
    everywhere = [
        p
        for folder in (
            "fluidpy",
            "api",
            "engines",
            "controllers",
            "cmd",
            "tests",
            "hack",
            "benchmarks",
        )
        for p in python_files(folder)
    ]
    offences = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) & OLD_TOP_LEVEL)
        for path in everywhere
    }
    assert {path: bad for path, bad in offences.items() if bad} == {}


def test_fluidpy_links_the_fluid_layers_from_the_repository_root() -> None:
    for name in FLUID_LAYERS:
        link = REPO / name.replace(".", "/")
        assert link.is_symlink(), link
        assert link.resolve() == REPO / name.removeprefix("fluidpy.")


# Inside the engines layer: the contract at the bottom, the Master/Worker family on it, the engines
# on top, and no engine reaching into another engine.
ENGINE_PACKAGES = ("base", "masterworker", "cacheruntime", "alluxio", "jindo")
ENGINE_BELOW = {
    "base": set(),
    "masterworker": {"base"},
    "cacheruntime": {"base"},
    "alluxio": {"base", "masterworker"},
    "jindo": {"base", "masterworker"},
}


def engine_packages_imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    names += [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        for alias in node.names
    ]
    return {
        parts[2]
        for parts in (name.split(".") for name in names)
        if parts[:2] == ["fluidpy", "engines"] and len(parts) > 2
    }


@pytest.mark.parametrize("package", ENGINE_PACKAGES)
def test_an_engine_package_imports_only_the_packages_below_it(package: str) -> None:
    allowed = ENGINE_BELOW[package] | {package}
    offences = {
        str(path.relative_to(REPO)): sorted(engine_packages_imported(path) - allowed)
        for path in (REPO / "engines" / package).rglob("*.py")
    }
    assert {path: bad for path, bad in offences.items() if bad} == {}


def test_every_engine_package_has_its_place_in_the_order() -> None:
    on_disk = {p.parent.name for p in (REPO / "engines").glob("*/__init__.py")}
    assert on_disk == set(ENGINE_PACKAGES)
