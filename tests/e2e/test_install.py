"""What `pip install fluidpy` gives: one import namespace, and a manager that needs no test tools.

The wheel is built from a copy of the sources (so the build leaves nothing in the checkout)
without network access; installing it into a fresh virtual environment fetches the runtime
dependencies from the package index, through pip's cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "fluidpy", "api", "engines", "controllers", "cmd")
"""What the Dockerfile copies to build the image: everything the package is built from."""


def run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name,
                source / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--wheel-dir",
        out,
        source,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("fluidpy-*.whl")
    return found


def test_the_wheel_puts_only_fluidpy_and_its_cli_at_the_top_level(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist()}
        (metadata,) = [name for name in top_level if name.endswith(".dist-info")]
        declared = archive.read(f"{metadata}/top_level.txt").decode().split()

    assert top_level - {metadata} == {"fluidpy", "fluidpy_cli"}
    assert sorted(declared) == ["fluidpy", "fluidpy_cli"]


def test_the_wheel_carries_the_fluid_layers_inside_fluidpy(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())

    for layer in ("api", "engines", "controllers"):
        modules = {
            f"fluidpy/{layer}/{path.relative_to(REPO / layer).as_posix()}"
            for path in (REPO / layer).rglob("*.py")
            if "__pycache__" not in path.parts
        }
        assert modules, layer
        assert modules <= names, sorted(modules - names)


@pytest.mark.parametrize("name", ["api", "engines", "controllers"])
def test_the_fluid_layers_do_not_import_by_their_folder_names(name: str, tmp_path: Path) -> None:
    """Run outside the checkout, where its folders are not on the path by accident."""
    result = run(sys.executable, "-c", f"import {name}", cwd=tmp_path)

    assert result.returncode == 1
    assert f"No module named '{name}'" in result.stderr
    assert run(sys.executable, "-c", f"import fluidpy.{name}", cwd=tmp_path).returncode == 0


def test_a_plain_install_runs_the_manager_without_test_tools(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    python = venv / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    assert installed.returncode == 0, installed.stderr

    help_text = run(venv / "bin" / "fluidpy", "manager", "--help", cwd=tmp_path)

    assert help_text.returncode == 0, help_text.stderr
    assert "--leader-elect" in help_text.stdout
    for absent in ("cryptography", "pytest"):
        probe = run(python, "-c", f"import {absent}", cwd=tmp_path)
        assert f"No module named '{absent}'" in probe.stderr, absent
