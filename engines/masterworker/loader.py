"""The pod a Master/Worker cache system's data-operation loader runs in.

Alluxio's and Jindo's loaders are the cache system's own CLI, so they run the runtime's image
(its version spec over the engine's default), with its pull policy and pull secrets; only the
command, environment and volumes differ per system.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fluidpy.api.v1alpha1.common import VersionSpec
from fluidpy.engines.masterworker.rendering import Obj, image_of, pull_secrets

LOADER_CONTAINER = "dataloader"


def loader_pod(
    container: Obj,
    version: VersionSpec | None,
    default_image: str,
    secrets: Iterable[Any] | None,
    volumes: list[Obj] | None = None,
) -> Obj:
    """`container` (command, env, mounts) as the loader, in the runtime's image."""
    loader: Obj = {
        "name": LOADER_CONTAINER,
        "image": image_of(
            version.image if version else None,
            version.image_tag if version else None,
            default_image,
        ),
        **container,
    }
    if version and version.image_pull_policy:
        loader["imagePullPolicy"] = version.image_pull_policy
    pod: Obj = {"containers": [loader]}
    if volumes:
        pod["volumes"] = volumes
    references = pull_secrets(secrets)
    if references:
        pod["imagePullSecrets"] = references
    return pod
