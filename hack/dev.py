"""`make dev`: bring up the local control plane and say how to use it."""

from __future__ import annotations

import sys

from fluidpy_cli import cluster

CLUSTER = "fluidpy-dev"


def main() -> int:
    try:
        kubeconfig = cluster.kubeconfig(CLUSTER)
        print(f'Cluster "{CLUSTER}" is already running.', file=sys.stderr)
    except cluster.ClusterCommandError:
        try:
            kubeconfig = cluster.create(CLUSTER, nodes=3)
        except cluster.ClusterCommandError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(f"\n  export KUBECONFIG={kubeconfig}\n  kubectl get nodes\n"
          f"\nStop it with: make clean-cluster", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
