"""A CacheRuntime's DataLoad loader: the container its class's dataOperationSpecs describe.

The class says how its cache system loads data (image, command, args); Fluid tells the loader
what to load through environment variables, and gives it the runtime's config file, the same
runtime.json the components read (upstream names the file but forgets to mount it).
"""

from __future__ import annotations

from typing import Any

from fluidpy.api.v1alpha1 import CacheRuntime, CacheRuntimeClass, DataOperationSpec
from fluidpy.engines.base.context import ReconcileRequestContext
from fluidpy.engines.base.dataoperation import (
    DATA_LOAD,
    DataOperation,
    DataOperationError,
    paths_and_replicas,
)
from fluidpy.engines.cacheruntime.naming import (
    CLASS_GVK,
    CONFIG_DIR,
    CONFIG_KEY,
    CONFIG_PATH,
    CONFIG_VOLUME,
    config_map_name,
)
from fluidpy.engines.cacheruntime.validation import parse

LOADER_CONTAINER = "dataloader"


def loader_pod_spec(ctx: ReconcileRequestContext, operation: DataOperation) -> dict[str, Any]:
    runtime = parse(CacheRuntime, ctx.runtime, f"CacheRuntime {ctx.namespace}/{ctx.name}")
    class_name = runtime.spec.runtime_class_name
    raw_class = ctx.client.get(CLASS_GVK, class_name, ctx=ctx.ctx)
    if raw_class is None:
        raise DataOperationError(
            f"CacheRuntimeClass {class_name!r} (spec.runtimeClassName of CacheRuntime "
            f"{ctx.namespace}/{ctx.name}) does not exist; create it",
            reason="DataOperationExecutionFailed",
        )
    runtime_class = parse(CacheRuntimeClass, raw_class, f"CacheRuntimeClass {class_name}")
    spec = operation_spec(runtime_class, operation.kind)
    worker = runtime_class.topology.worker
    worker_pod: dict[str, Any] = (worker.pod_template_spec.get("spec") or {}) if worker else {}
    image = spec.image or _first_image(worker_pod)
    if not image:
        raise DataOperationError(
            f"CacheRuntimeClass {class_name} names no image for {operation.kind}: set "
            f"dataOperationSpecs[name={operation.kind}].image, or give the worker a container "
            "image",
            reason="DataOperationExecutionFailed",
        )
    paths, replicas = paths_and_replicas(operation)
    container: dict[str, Any] = {
        "name": LOADER_CONTAINER,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "env": [
            {"name": "FLUID_DATALOAD_METADATA", "value": str(operation.load_metadata()).lower()},
            {"name": "FLUID_DATALOAD_DATA_PATH", "value": paths},
            {"name": "FLUID_DATALOAD_PATH_REPLICAS", "value": replicas},
            {"name": "FLUID_RUNTIME_CONFIG_PATH", "value": CONFIG_PATH},
        ],
        "volumeMounts": [{"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    if spec.command:
        container["command"] = list(spec.command)
    if spec.args:
        container["args"] = list(spec.args)
    pod: dict[str, Any] = {
        "containers": [container],
        "volumes": [
            {
                "name": CONFIG_VOLUME,
                "configMap": {
                    "name": config_map_name(ctx.name),
                    "items": [{"key": CONFIG_KEY, "path": CONFIG_KEY}],
                },
            }
        ],
    }
    if worker_pod.get("imagePullSecrets"):
        pod["imagePullSecrets"] = worker_pod["imagePullSecrets"]
    return pod


def operation_spec(runtime_class: CacheRuntimeClass, kind: str) -> DataOperationSpec:
    """The class's entry for `kind`, refusing a missing entry or one that runs nothing."""
    name = runtime_class.metadata.name
    entries = [s for s in runtime_class.data_operation_specs or [] if s.name == kind]
    if kind != DATA_LOAD or not entries:
        raise DataOperationError(
            f"CacheRuntimeClass {name} does not support {kind}: add a dataOperationSpecs entry "
            f"named {kind} (with the loader's command and args) to the class"
        )
    spec = entries[0]
    if not spec.command and not spec.args:
        raise DataOperationError(
            f"CacheRuntimeClass {name}'s dataOperationSpecs entry {kind} has neither command nor "
            "args, so its loader would run nothing; give it the command that loads "
            "$FLUID_DATALOAD_DATA_PATH",
            reason="DataOperationExecutionFailed",
        )
    return spec


def _first_image(pod_spec: dict[str, Any]) -> str | None:
    containers = pod_spec.get("containers") or []
    image = containers[0].get("image") if containers else None
    return str(image) if image else None
