"""`--crds PATH` finds the CRDs in a manifest file, a kustomize folder or a plain folder.

Whatever else lives there (RBAC, a Deployment, the kustomization itself) is skipped with a note
that names the file, never read as a CRD.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fluidpy.api import crdgen
from fluidpy_cli.crds import ManifestError, read_crds

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
CRD_NAMES = sorted(crd["metadata"]["name"] for crd in crdgen.crds())


def names(documents: list[dict[str, Any]]) -> list[str]:
    return sorted(d["metadata"]["name"] for d in documents)


def test_a_kustomize_folder_stands_for_its_resources() -> None:
    found = read_crds([CONFIG / "crd"])

    assert names(found.documents) == CRD_NAMES
    assert found.notes == []


def test_a_plain_folder_stands_for_its_yaml_files() -> None:
    assert names(read_crds([CONFIG / "crd" / "bases"]).documents) == CRD_NAMES


def test_a_file_stands_for_itself() -> None:
    found = read_crds([CONFIG / "crd" / "bases" / "data.fluid.io_datasets.yaml"])

    assert names(found.documents) == ["datasets.data.fluid.io"]


def test_what_is_not_a_crd_is_skipped_with_a_note_naming_the_file() -> None:
    found = read_crds([CONFIG])

    assert names(found.documents) == CRD_NAMES
    assert any(
        str(CONFIG / "rbac" / "role.yaml") in note and "ClusterRole" in note for note in found.notes
    ), found.notes
    assert any(
        str(CONFIG / "manager" / "manager.yaml") in note and "Deployment" in note
        for note in found.notes
    ), found.notes


def test_a_folder_without_any_crd_is_an_error_naming_it() -> None:
    with pytest.raises(ManifestError, match=r"no CustomResourceDefinition found in .*rbac"):
        read_crds([CONFIG / "rbac"])


def test_a_missing_path_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no-such-folder: no such file or directory"):
        read_crds([tmp_path / "no-such-folder"])


def test_remote_resources_and_patches_are_noted_not_fetched(tmp_path: Path) -> None:
    crd = CONFIG / "crd" / "bases" / "data.fluid.io_datasets.yaml"
    (tmp_path / "crd.yaml").write_text(crd.read_text())
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n- crd.yaml\n- https://example.com/other.yaml\n- .\n"
        "patches:\n- path: patch.yaml\n"
    )

    found = read_crds([tmp_path])

    assert names(found.documents) == ["datasets.data.fluid.io"]
    assert any("skipped remote resource https://example.com/other.yaml" in n for n in found.notes)
    assert any("only `resources` is read; ignored patches" in n for n in found.notes)


def test_yaml_that_does_not_parse_is_an_error_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [unclosed\n")

    with pytest.raises(ManifestError, match=r"broken\.yaml: cannot be read as YAML"):
        read_crds([broken])
