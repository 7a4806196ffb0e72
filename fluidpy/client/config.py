"""Building the official client's ApiClient the way a controller needs it.

The official client's connection pool holds 10 connections by default. A manager runs an informer
watch per kind plus several workers per controller, all through one pool, so 10 leaves requests
waiting for a connection and urllib3 warning "connection pool is full".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CONNECTION_POOL_SIZE = 64
"""Enough for every watch and worker of a manager with a handful of controllers; connections
are opened only when needed, so the size costs nothing while idle."""


class KubeconfigError(Exception):
    """No usable cluster configuration; the message says where it looked."""


def kubeconfig_path(kubeconfig: Path | None = None) -> Path | None:
    """The kubeconfig load_api_client reads: `kubeconfig`, else none in a pod (the service
    account is used), else the first of $KUBECONFIG, else ~/.kube/config."""
    if kubeconfig is not None:
        return kubeconfig
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    return Path(
        os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config"
    )


def describe_credentials(kubeconfig: Path | None = None) -> str:
    """Where the connection settings come from, for messages a person acts on."""
    path = kubeconfig_path(kubeconfig)
    return "the pod's service account" if path is None else f"kubeconfig {path}"


def load_api_client(
    kubeconfig: Path | None = None,
    *,
    token: str | None = None,
    connection_pool_size: int = CONNECTION_POOL_SIZE,
) -> Any:
    """A `kubernetes.client.ApiClient` from `kubeconfig`, or the in-cluster service account
    when no kubeconfig is given and the process runs in a pod, else $KUBECONFIG or
    ~/.kube/config. `token` replaces the kubeconfig's credentials with a bearer token."""
    from kubernetes import client, config

    configuration = client.Configuration()
    path = kubeconfig_path(kubeconfig)
    if path is None:
        config.load_incluster_config(client_configuration=configuration)
    else:
        if not Path(path).is_file():
            raise KubeconfigError(
                f"kubeconfig {path} does not exist; pass --kubeconfig or set KUBECONFIG"
            )
        config.load_kube_config(config_file=str(path), client_configuration=configuration)
    if token is not None:
        configuration.cert_file = configuration.key_file = None
        configuration.api_key = {"authorization": f"Bearer {token}"}
    configuration.connection_pool_maxsize = connection_pool_size
    return client.ApiClient(configuration)
