#!/usr/bin/env python3
"""Write config/crd from the models in api/v1alpha1, or with --check fail when it is stale.

    python hack/gen_crds.py            # regenerate config/crd
    python hack/gen_crds.py --check    # exit 1 with a diff when config/crd differs

config/crd is never edited by hand: change the models, then run this.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from fluidpy.api import crdgen

CRD_DIR = Path(__file__).resolve().parent.parent / "config" / "crd"


def differences(crd_dir: Path) -> list[str]:
    """Unified diffs between the files on disk and freshly generated ones; empty when fresh."""
    wanted = crdgen.render_files()
    on_disk = {
        path.relative_to(crd_dir).as_posix() for path in (crd_dir / "bases").glob("*.yaml")
    } | ({"kustomization.yaml"} if (crd_dir / "kustomization.yaml").exists() else set())
    diffs = []
    for name in sorted(wanted.keys() | on_disk):
        path = crd_dir / name
        current = path.read_text() if path.exists() else ""
        fresh = wanted.get(name, "")
        if current != fresh:
            diffs.append(
                "".join(
                    difflib.unified_diff(
                        current.splitlines(keepends=True),
                        fresh.splitlines(keepends=True),
                        fromfile=f"config/crd/{name} (committed)",
                        tofile=f"config/crd/{name} (generated)",
                    )
                )
            )
    return diffs


def write(crd_dir: Path) -> None:
    wanted = crdgen.render_files()
    for stale in (crd_dir / "bases").glob("*.yaml"):
        if stale.relative_to(crd_dir).as_posix() not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        path = crd_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 and print a diff when config/crd is stale (for CI)",
    )
    parser.add_argument(
        "--dir", type=Path, default=CRD_DIR, help=f"the config/crd directory (default: {CRD_DIR})"
    )
    args = parser.parse_args(argv)
    if not args.check:
        write(args.dir)
        return 0
    diffs = differences(args.dir)
    if diffs:
        sys.stdout.write("".join(diffs))
        sys.stderr.write(
            f"{len(diffs)} file(s) in config/crd are stale: the models in api/v1alpha1 changed. "
            "Run `python hack/gen_crds.py` and commit the result.\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
