"""Exec into pods on kwok's fake nodes runs a command on the host, so tests take the real path.

`kubectl exec` (or an engine's KubernetesExec) into a pod on a fake node goes through the API
server's exec upgrade to the node's kubelet endpoint, which is kwok's server on loopback. kwok's
ClusterExec (kwok.x-k8s.io/v1alpha1, given in its `--config`) then runs the exec's argv as a local
process and streams its stdout and stderr back; the API server relays the exit status.

Exec is opt-in, through the cluster's `exec_path`: without one kwok has no ClusterExec and every
exec into a fake pod fails ("no exec found"), so nothing an engine or a user sends runs on the
host. With one, a bare command name is looked up in those directories only (kwok's own PATH), so
an engine's `alluxio fs mount ...` reaches a test's script of that name and never a host program
by accident; an absolute path runs as given, as the user running the cluster. The command runs
with the exec path ahead of /bin:/usr/bin (a script can call `cat` or `sleep`), in a scratch
directory of the cluster.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml

KUBELET_HOST = "localhost"
"""Every fake node's Hostname address. The API server reaches a node's kubelet at its Hostname
address first (its --kubelet-preferred-address-types default), and `localhost` resolves to
loopback on every host, where kwok's server listens; the real node is reached the same way."""

KUBELET_IP = "127.0.0.1"
"""Every fake node's InternalIP: kwok's server, for anything that prefers the node's IP."""

CLUSTER_EXEC_NAME = "fluidpy-host-commands"


def render_cluster_exec(exec_path: Sequence[Path], work_dir: Path) -> str:
    """kwok's `--config` document mapping exec into every pod kwok runs to a host command."""
    search = [str(directory) for directory in exec_path]
    document = {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "ClusterExec",
        "metadata": {"name": CLUSTER_EXEC_NAME},
        "spec": {
            "execs": [
                {
                    "local": {
                        "workDir": str(work_dir),
                        "envs": [
                            {
                                "name": "PATH",
                                "value": os.pathsep.join([*search, os.defpath]),
                            }
                        ],
                    }
                }
            ]
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def command_search_path(exec_path: Sequence[Path]) -> str:
    """kwok's PATH, where a bare command name is looked up: the exec path alone."""
    return os.pathsep.join(str(directory) for directory in exec_path)
