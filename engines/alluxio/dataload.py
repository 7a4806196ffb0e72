"""An AlluxioRuntime's DataLoad loader: Alluxio's own distributedLoad, run from a Job.

Each target is loaded with `alluxio fs distributedLoad --replication <n> <path>`; with
loadMetadata, `alluxio fs ls -R` with a zero metadata sync interval first refreshes what Alluxio
knows of the path (newer Alluxio no longer syncs metadata inside distributedLoad). The client
reads its configuration from the runtime's `<name>-config` map, as every Alluxio container does.
"""

from __future__ import annotations

import shlex
from typing import Any

from fluidpy.api.v1alpha1.alluxio import AlluxioRuntime
from fluidpy.engines.alluxio import render as alluxio
from fluidpy.engines.base.dataoperation import DataOperation
from fluidpy.engines.masterworker.loader import loader_pod
from fluidpy.engines.masterworker.renderer import Images
from fluidpy.engines.masterworker.rendering import pod_ip_env

SYNC_METADATA = "-Dalluxio.user.file.metadata.sync.interval=0"


def load_script(operation: DataOperation) -> str:
    """The shell script the loader runs: every command in order, stopping at the first failure."""
    operation.refuse_options(frozenset(), "alluxio")
    commands = ["set -ex"]
    for target in operation.targets():
        path = shlex.quote(target.path)
        if operation.load_metadata():
            commands.append(f"alluxio fs ls {SYNC_METADATA} -R {path} >/dev/null")
        commands.append(f"alluxio fs distributedLoad --replication {target.replicas} {path}")
    return "\n".join(commands)


def loader_pod_spec(
    runtime: AlluxioRuntime, operation: DataOperation, images: Images
) -> dict[str, Any]:
    config = alluxio.config_map_name(runtime.metadata.name or "")
    container = {
        "command": ["/bin/sh", "-c", load_script(operation)],
        "envFrom": [{"configMapRef": {"name": config}}],
        "env": [
            *pod_ip_env("ALLUXIO_CLIENT_HOSTNAME"),
            {
                "name": "ALLUXIO_CLIENT_JAVA_OPTS",
                "value": "-Dalluxio.user.hostname=$(ALLUXIO_CLIENT_HOSTNAME)",
            },
        ],
    }
    spec = runtime.spec
    return loader_pod(container, spec.alluxio_version, images.runtime, spec.image_pull_secrets)
