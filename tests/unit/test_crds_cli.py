"""`fluidpy crds` prints every CRD as one YAML stream for `kubectl apply -f -`."""

from __future__ import annotations

import argparse

import pytest
import yaml

from fluidpy.api import crdgen
from fluidpy_cli import crds


def test_the_crds_subcommand_prints_every_crd(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="fluidpy")
    crds.add_parser(parser.add_subparsers(dest="command", required=True))

    args = parser.parse_args(["crds"])
    status = args.handler(args)

    out = capsys.readouterr().out
    assert status == 0
    documents = [d for d in yaml.safe_load_all(out) if d is not None]
    assert [d["kind"] for d in documents] == ["CustomResourceDefinition"] * 6
    assert documents == crdgen.crds()
    assert out == crdgen.yaml_stream()
