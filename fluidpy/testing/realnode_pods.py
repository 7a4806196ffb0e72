"""Placing pods, and fluidpy's own manager Deployment, on the real node.

Pods of the real node use the host network (these machines get no pod network), select the
node's label and tolerate its taint. For the manager that means a kustomization over config/
that changes only what the real node forces; tests and `make dev REAL_NODE=1` apply the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from fluidpy.testing.realnode import NODE_LABEL

MANAGER_DEPLOYMENT = "fluidpy-controller-manager"
MANAGER_NAMESPACE = "fluid-system"
MANAGER_IMAGE = "localhost/fluidpy/controller-manager:dev"
"""The tag hack/realnode/image.sh gives the manager's image by default."""


def on_real_node(spec: dict[str, Any]) -> dict[str, Any]:
    """A pod spec placed on the real node: host network, its label selected, its taint
    tolerated."""
    return {
        **spec,
        "hostNetwork": True,
        "nodeSelector": {**(spec.get("nodeSelector") or {}), NODE_LABEL: "true"},
        "tolerations": [
            *(spec.get("tolerations") or []),
            {"key": NODE_LABEL, "operator": "Exists"},
        ],
    }


def write_manager_overlay(
    directory: Path,
    config: Path,
    *,
    mount_root: Path,
    api_server_port: int,
    metrics_port: int,
    probe_port: int,
    image: str = MANAGER_IMAGE,
) -> Path:
    """Write a kustomization over `config` (the repository's config/) for the real node, for
    `kubectl apply -k`. It changes only what the real node forces:

    * the image, to one imported into the node, never pulled;
    * host networking, the node's selector and toleration; the namespace's Pod Security level
      must then allow host namespaces (`privileged` instead of `restricted`);
    * the metrics and probe ports, since host-network pods share the host's ports;
    * the API server's address: with no kube-proxy the `kubernetes` Service's IP leads nowhere,
      and a host-network pod reaches the local API server on loopback;
    * MOUNT_ROOT, inside the node's shared mount, so FUSE mounts propagate.
    """
    name, tag = image.rsplit(":", 1)
    container = "/spec/template/spec/containers/0"
    ports = [
        {
            "op": "replace",
            "path": f"{container}/args/2",
            "value": f"--metrics-bind-address=:{metrics_port}",
        },
        {
            "op": "replace",
            "path": f"{container}/args/3",
            "value": f"--health-probe-bind-address=:{probe_port}",
        },
        {"op": "replace", "path": f"{container}/ports/0/containerPort", "value": metrics_port},
        {"op": "replace", "path": f"{container}/ports/1/containerPort", "value": probe_port},
    ]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": MANAGER_DEPLOYMENT, "namespace": MANAGER_NAMESPACE},
        "spec": {
            "template": {
                "spec": {
                    **on_real_node({}),
                    "containers": [
                        {
                            "name": "manager",
                            "imagePullPolicy": "Never",
                            "env": [
                                {"name": "MOUNT_ROOT", "value": str(mount_root)},
                                {"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"},
                                {"name": "KUBERNETES_SERVICE_PORT", "value": str(api_server_port)},
                            ],
                        }
                    ],
                }
            }
        },
    }
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": MANAGER_NAMESPACE,
            "labels": {"pod-security.kubernetes.io/enforce": "privileged"},
        },
    }
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(config, directory)],
        "images": [{"name": "fluidpy/controller-manager", "newName": name, "newTag": tag}],
        "patches": [
            {
                "target": {"kind": "Deployment", "name": MANAGER_DEPLOYMENT},
                "patch": yaml.safe_dump(ports),
            },
            {"patch": yaml.safe_dump(deployment)},
            {"patch": yaml.safe_dump(namespace)},
        ],
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return directory
