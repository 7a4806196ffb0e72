"""The `fluidpy` command: one tool for the manager, the local control plane and the CRDs."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from fluidpy_cli import cluster, crds, manager, status


def installed_version() -> str:
    """The version of the installed distribution: the one pip resolved, not a constant that
    could drift from pyproject.toml."""
    try:
        return version("fluidpy")
    except PackageNotFoundError:
        return "unknown (not installed; run `pip install -e .`)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fluidpy",
        description="Fluid's dataset cache runtimes on a Python controller framework.",
    )
    parser.add_argument("--version", action="version", version=f"fluidpy {installed_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in (cluster, crds, manager, status):
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
