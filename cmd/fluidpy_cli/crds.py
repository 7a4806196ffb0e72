"""`fluidpy crds`: print every data.fluid.io CRD, ready for `fluidpy crds | kubectl apply -f -`."""

from __future__ import annotations

import argparse
import sys

from fluidpy.api import crdgen


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
