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
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=configuration)
    else:
        path = kubeconfig or Path(
            os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
            or Path.home() / ".kube" / "config"
        )
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
