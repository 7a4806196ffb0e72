"""A JindoRuntime's DataLoad loader: JindoCache's own `jindocache -load`, run from a Job.

Each target is loaded with `jindocache -load [-meta] -data -s -R -replica <n> jindo://<path>` (with
the path's own leading slash, as upstream writes it):
-meta when loadMetadata asks for the metadata cache too, -data for the data (left out with
the loadMetadataOnly option), -s synchronously so the Job's outcome is the load's, -R for the
whole tree. The other options upstream's loader reads become their flags (`FLAG_OPTIONS`). The
loader is a JindoCache client: it reads the runtime's client and server configuration maps.
"""

from __future__ import annotations

import shlex
from typing import Any

from fluidpy.api.v1alpha1.jindo import JindoRuntime
from fluidpy.engines.base.dataoperation import DataOperation
from fluidpy.engines.jindo import render as jindo
from fluidpy.engines.masterworker.loader import loader_pod
from fluidpy.engines.masterworker.renderer import Images
from fluidpy.engines.masterworker.rendering import pod_ip_env

SCHEME = "jindo://"
CLIENT_CONFIG_DIRECTORY = "/etc/jindosdk"
FLAG_OPTIONS = {
    "atomicCache": "-atomic",
    "loadMemorydata": "-m",
    "dryrun": "-dryrun",
    "forceload": "-f",
}
"""spec.options keys set to "true" and the flag each adds (upstream's loader's names)."""
METADATA_ONLY = "loadMetadataOnly"


def load_command(operation: DataOperation, path: str, replicas: int) -> str:
    options = operation.options()
    flags = ["-meta"] if operation.load_metadata() else []
    if options.get(METADATA_ONLY, "").lower() != "true":
        flags.append("-data")
    flags += [flag for key, flag in FLAG_OPTIONS.items() if options.get(key, "").lower() == "true"]
    target = shlex.quote(SCHEME + path)
    return f"jindocache -load {' '.join(flags)} -s -R -replica {replicas} {target}"


def load_script(operation: DataOperation) -> str:
    """The shell script the loader runs: every command in order, stopping at the first failure."""
    operation.refuse_options(frozenset({*FLAG_OPTIONS, METADATA_ONLY}), "jindo")
    commands = ["set -ex"]
    commands += [load_command(operation, t.path, t.replicas or 1) for t in operation.targets()]
    return "\n".join(commands)


def loader_pod_spec(
    runtime: JindoRuntime, operation: DataOperation, images: Images
) -> dict[str, Any]:
    name = runtime.metadata.name or ""
    container = {
        "command": ["/bin/sh", "-c", load_script(operation)],
        "env": [
            *pod_ip_env("STORAGE_ADDRESS"),
            {"name": "JINDOCACHE_CONF_DIR", "value": jindo.CONFIG_DIRECTORY},
            {"name": "JINDOSDK_CONF_DIR", "value": CLIENT_CONFIG_DIRECTORY},
        ],
        "volumeMounts": [
            {"name": "jindo-config", "mountPath": jindo.CONFIG_DIRECTORY, "readOnly": True},
            {"name": "jindo-client-config", "mountPath": CLIENT_CONFIG_DIRECTORY, "readOnly": True},
        ],
    }
    volumes = [
        {"name": "jindo-config", "configMap": {"name": jindo.config_map_name(name)}},
        {"name": "jindo-client-config", "configMap": {"name": jindo.client_config_map_name(name)}},
    ]
    spec = runtime.spec
    return loader_pod(
        container, spec.jindo_version, images.runtime, spec.image_pull_secrets, volumes
    )
