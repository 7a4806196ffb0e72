"""config/crd is exactly what the models generate, so a stale CRD can never be committed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from fluidpy.api import crdgen

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / "config" / "crd"
GEN = ROOT / "hack" / "gen_crds.py"


def committed_files() -> dict[str, str]:
    paths = [*sorted((CRD_DIR / "bases").glob("*.yaml")), CRD_DIR / "kustomization.yaml"]
    return {p.relative_to(CRD_DIR).as_posix(): p.read_text() for p in paths if p.exists()}


def test_committed_crds_equal_the_generated_ones() -> None:
    stale = [
        name for name, text in crdgen.render_files().items() if committed_files().get(name) != text
    ]
    assert not stale, f"stale: {stale}; run `python hack/gen_crds.py` and commit config/crd"


def test_config_crd_holds_no_file_the_generator_would_not_write() -> None:
    assert committed_files().keys() == crdgen.render_files().keys()


def check(crd_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GEN), "--check", "--dir", str(crd_dir)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_check_command_passes_on_fresh_files(tmp_path: Path) -> None:
    shutil.copytree(CRD_DIR, tmp_path / "crd")
    result = check(tmp_path / "crd")
    assert (result.returncode, result.stdout) == (0, "")


def test_the_check_command_fails_with_a_diff_on_stale_files(tmp_path: Path) -> None:
    shutil.copytree(CRD_DIR, tmp_path / "crd")
    edited = tmp_path / "crd" / "bases" / "data.fluid.io_datasets.yaml"
    edited.write_text(
        edited.read_text().replace("shortNames:\n    - dataset", "shortNames:\n    - ds")
    )
    (tmp_path / "crd" / "bases" / "data.fluid.io_oldruntimes.yaml").write_text("kind: Old\n")

    result = check(tmp_path / "crd")

    assert result.returncode == 1
    assert "-    - ds\n+    - dataset\n" in result.stdout
    assert "config/crd/bases/data.fluid.io_oldruntimes.yaml (committed)" in result.stdout
    assert "2 file(s) in config/crd are stale" in result.stderr
    assert "python hack/gen_crds.py" in result.stderr


def test_generating_repairs_stale_files_and_removes_leftovers(tmp_path: Path) -> None:
    (tmp_path / "crd" / "bases").mkdir(parents=True)
    (tmp_path / "crd" / "bases" / "data.fluid.io_oldruntimes.yaml").write_text("kind: Old\n")

    subprocess.run([sys.executable, str(GEN), "--dir", str(tmp_path / "crd")], check=True)

    assert check(tmp_path / "crd").returncode == 0
    assert not (tmp_path / "crd" / "bases" / "data.fluid.io_oldruntimes.yaml").exists()
