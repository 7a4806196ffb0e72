"""`fluidpy crds`, and reading CRDs from the paths a user gives `fluidpy cluster create --crds`.

A path may be a manifest file, a kustomize folder or a plain folder of manifests, because that is
how projects lay their CRDs out (kubebuilder's config/crd is a kustomize folder). Only
CustomResourceDefinitions are kept; anything else found there is skipped with a note instead of
refused, so `--crds config/` installs the CRDs and leaves the RBAC and Deployment beside them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fluidpy.api import crdgen

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MANIFEST_SUFFIXES = (".yaml", ".yml")
CRD_KIND = "CustomResourceDefinition"


class ManifestError(Exception):
    """A --crds path that cannot be read; the message names the path and what is wrong."""


@dataclass
class CRDs:
    """The CRDs found under some paths, and one note per thing skipped on the way."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_crds(paths: Sequence[Path]) -> CRDs:
    found = CRDs()
    visited: set[Path] = set()
    for path in paths:
        for file in _manifest_files(path, found.notes, visited):
            others: list[str] = []
            for document in _documents(file):
                if document.get("kind") == CRD_KIND:
                    found.documents.append(document)
                else:
                    others.append(str(document.get("kind") or "a document without a kind"))
            if others:
                found.notes.append(
                    f"{file}: skipped {', '.join(sorted(set(others)))} (not a {CRD_KIND})"
                )
    if paths and not found.documents:
        shown = ", ".join(str(path) for path in paths)
        raise ManifestError(f"no {CRD_KIND} found in {shown}")
    return found


def _manifest_files(path: Path, notes: list[str], visited: set[Path]) -> list[Path]:
    """The manifest files a path stands for; a kustomize folder stands for its `resources`."""
    if not path.exists():
        raise ManifestError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    if path.resolve() in visited:
        return []
    visited.add(path.resolve())
    kustomization = next(
        (path / name for name in KUSTOMIZATION_FILES if (path / name).is_file()), None
    )
    if kustomization is None:
        return sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())
    spec = next(iter(_documents(kustomization)), {})
    ignored = sorted(key for key in spec if key not in {"apiVersion", "kind", "resources"})
    if ignored:
        notes.append(f"{kustomization}: only `resources` is read; ignored {', '.join(ignored)}")
    files: list[Path] = []
    for resource in spec.get("resources") or []:
        if "://" in str(resource):
            notes.append(f"{kustomization}: skipped remote resource {resource}")
            continue
        files.extend(_manifest_files(path / str(resource), notes, visited))
    return files


def _documents(file: Path) -> list[dict[str, Any]]:
    try:
        loaded = list(yaml.safe_load_all(file.read_text()))
    except (OSError, yaml.YAMLError) as error:
        raise ManifestError(f"{file}: cannot be read as YAML ({error})") from None
    return [document for document in loaded if isinstance(document, dict)]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "crds",
        help="print the CRDs as a multi-document YAML stream",
        description="Print the CustomResourceDefinitions of data.fluid.io/v1alpha1 "
        "(Dataset, CacheRuntimeClass, CacheRuntime, AlluxioRuntime, JindoRuntime), "
        "generated from the models; pipe them into `kubectl apply -f -`.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(crdgen.yaml_stream())
    return 0
