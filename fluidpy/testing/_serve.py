"""Keeps a LocalCluster running in a process of its own, for `fluidpy cluster create`.

The process starts the cluster, writes `ready` into the cluster directory, and stops the cluster
when it receives SIGTERM or SIGINT. Its components die with it (parent-death signal).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from fluidpy.testing.localcluster import LocalCluster, read_manifests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fluidpy.testing._serve")
    parser.add_argument("--name", required=True)
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--crds", type=Path, action="append", default=[])
    parser.add_argument("--real-node", action="store_true")
    parser.add_argument("--exec-path", type=Path, action="append", default=[])
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    cluster = LocalCluster(
        name=args.name,
        nodes=args.nodes,
        directory=args.dir,
        crds=read_manifests(args.crds),
        real_node=args.real_node,
        exec_path=args.exec_path,
    )
    try:
        cluster.start(progress=lambda message: print(message, flush=True))
    except Exception as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    try:
        stop.wait()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
