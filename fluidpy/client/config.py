"""Where a process finds its API server: a kubeconfig, or the pod's service account.

Reads what kubectl reads, for the cases a controller meets: a context (the current one or a named
one); its cluster's server, certificate authority (file or inline data), insecure-skip-tls-verify
and tls-server-name; its user's token or tokenFile, client certificate and key (files or inline
data), user name and password, or exec plugin (execcredential.py). In a pod, with no kubeconfig
given, the service account mounted by the kubelet is used, its token read again as it rotates.

Not supported, each refused with a message: auth-provider (the removed in-tree gcp/azure/oidc
helpers; their replacements are exec plugins) and proxy-url. Only the first file of $KUBECONFIG
is read (no merging of several files).
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fluidpy.client.connection import (
    CONNECTION_POOL_SIZE,
    ApiServerConnection,
    TLSSettings,
)
from fluidpy.client.credentials import (
    NO_CREDENTIALS,
    ClientCertificate,
    Credentials,
    CredentialsError,
    FixedCredentials,
    TokenFile,
)
from fluidpy.client.execcredential import API_VERSIONS, ExecPlugin, ExecPluginSpec, resolve_command

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts a pod's service account: token, ca.crt, namespace."""
EXEC_CLUSTER_CONFIG = "client.authentication.k8s.io/exec"
"""The cluster extension whose value an exec plugin receives as spec.cluster.config."""


class KubeconfigError(Exception):
    """No usable cluster configuration; the message says where it looked and what to fix."""


def kubeconfig_path(kubeconfig: Path | None = None) -> Path | None:
    """The kubeconfig load_connection reads: `kubeconfig`, else none in a pod (the service
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


def load_connection(
    kubeconfig: Path | None = None,
    *,
    token: str | None = None,
    pool_size: int = CONNECTION_POOL_SIZE,
) -> ApiServerConnection:
    """The connection `kubeconfig` describes, or the in-cluster service account's when no
    kubeconfig is given and the process runs in a pod, else $KUBECONFIG's or ~/.kube/config's.
    `token` replaces the configured credentials (and client certificate) with a bearer token."""
    path = kubeconfig_path(kubeconfig)
    if path is None:
        return in_cluster_connection(
            os.environ["KUBERNETES_SERVICE_HOST"],
            os.environ.get("KUBERNETES_SERVICE_PORT", "443"),
            token=token,
            pool_size=pool_size,
        )
    return kubeconfig_connection(path, token=token, pool_size=pool_size)


def in_cluster_connection(
    service_host: str,
    service_port: str,
    *,
    service_account_dir: Path = SERVICE_ACCOUNT_DIR,
    token: str | None = None,
    pool_size: int = CONNECTION_POOL_SIZE,
) -> ApiServerConnection:
    """The connection of a pod: the `kubernetes` Service's address (the kubelet passes it as
    KUBERNETES_SERVICE_HOST/PORT), the cluster CA and the rotating token from
    `service_account_dir` (default SERVICE_ACCOUNT_DIR)."""
    host = f"[{service_host}]" if ":" in service_host else service_host
    ca_path = service_account_dir / "ca.crt"
    try:
        ca = ca_path.read_bytes()
        credentials: Credentials = (
            FixedCredentials.bearer(token)
            if token is not None
            else TokenFile(service_account_dir / "token")
        )
    except (OSError, CredentialsError) as error:
        raise KubeconfigError(
            f"in a pod without a kubeconfig, the service account is used, but {error}; mount a "
            "service account token (automountServiceAccountToken) or pass --kubeconfig"
        ) from None
    return _connect(
        f"https://{host}:{service_port}",
        TLSSettings(ca=ca, ca_file=ca_path),
        credentials,
        pool_size,
        "the pod's service account",
    )


def kubeconfig_connection(
    path: Path,
    *,
    context: str | None = None,
    token: str | None = None,
    pool_size: int = CONNECTION_POOL_SIZE,
) -> ApiServerConnection:
    """The connection of `context` (default: the current-context) in the kubeconfig at `path`."""
    config = _Kubeconfig(path)
    context_name = context or config.document.get("current-context")
    if not context_name:
        raise KubeconfigError(
            f"kubeconfig {path} has no current-context; choose one with "
            "`kubectl config use-context NAME`"
        )
    chosen = config.named("contexts", "context", context_name)
    cluster = config.named("clusters", "cluster", chosen.get("cluster"))
    user = config.named("users", "user", chosen["user"]) if chosen.get("user") else {}
    if cluster.get("proxy-url"):
        raise KubeconfigError(f"kubeconfig {path}: proxy-url is not supported; remove it")
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(
            f"kubeconfig {path}: cluster {chosen['cluster']!r} has no server; set "
            "clusters[].cluster.server to the API server's URL"
        )
    ca = config.pem(cluster, "certificate-authority")
    insecure = bool(cluster.get("insecure-skip-tls-verify"))
    if insecure and ca is not None:
        raise KubeconfigError(
            f"kubeconfig {path}: cluster {chosen['cluster']!r} sets both a certificate "
            "authority and insecure-skip-tls-verify; remove one of them"
        )
    if token is not None:
        credentials: Credentials = FixedCredentials.bearer(token)
        certificate = None
    else:
        credentials = config.credentials(user, cluster)
        certificate = config.client_certificate(user)
    tls = TLSSettings(
        ca=ca,
        ca_file=config.source(cluster, "certificate-authority"),
        insecure=insecure,
        server_name=cluster.get("tls-server-name") or None,
        client_certificate=certificate,
    )
    return _connect(str(server), tls, credentials, pool_size, f"kubeconfig {path}")


def _connect(
    host: str, tls: TLSSettings, credentials: Credentials, pool_size: int, source: str
) -> ApiServerConnection:
    try:
        return ApiServerConnection(host, tls=tls, credentials=credentials, pool_size=pool_size)
    except ssl.SSLError as error:
        raise KubeconfigError(
            f"{source}: the certificate authority or the client certificate and key are not "
            f"valid PEM ({error.reason or error}); regenerate them"
        ) from None


class _Kubeconfig:
    """One kubeconfig file's document and the helpers that read its fields, each error naming
    the file and the field."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.folder = path.parent
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise KubeconfigError(
                f"kubeconfig {path} does not exist; pass --kubeconfig or set KUBECONFIG"
            ) from None
        except OSError as error:
            raise KubeconfigError(f"kubeconfig {path} cannot be read: {error.strerror}") from None
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise KubeconfigError(f"kubeconfig {path} is not valid YAML: {error}") from None
        if not isinstance(document, dict):
            raise KubeconfigError(f"kubeconfig {path} is not a kubeconfig (no mapping at its top)")
        self.document: dict[str, Any] = document

    def named(self, section: str, kind: str, name: Any) -> dict[str, Any]:
        """The `kind` mapping of the entry called `name` in `section` (contexts, clusters,
        users)."""
        entries = self.document.get(section) or []
        for entry in entries:
            if isinstance(entry, dict) and entry.get("name") == name:
                value = entry.get(kind) or {}
                return value if isinstance(value, dict) else {}
        known = ", ".join(str(e.get("name")) for e in entries if isinstance(e, dict)) or "none"
        raise KubeconfigError(
            f"kubeconfig {self.path} has no {kind} named {name!r} (its {section}: {known}); "
            "fix the context or choose another"
        )

    def pem(self, fields: Mapping[str, Any], name: str) -> bytes | None:
        """`name`-data (base64) or the file `name` (relative to the kubeconfig's folder)."""
        data = fields.get(f"{name}-data")
        if data:
            try:
                return base64.b64decode(str(data), validate=True)
            except (binascii.Error, ValueError):
                raise KubeconfigError(
                    f"kubeconfig {self.path}: {name}-data is not base64; encode the PEM with "
                    "`base64 -w0`"
                ) from None
        file = self.source(fields, name)
        return None if file is None else self._read(name, file).encode()

    def source(self, fields: Mapping[str, Any], name: str) -> Path | None:
        """The file `name` names (relative to the kubeconfig's folder), unless `name`-data is
        given instead."""
        if fields.get(f"{name}-data") or not fields.get(name):
            return None
        return self.folder / str(fields[name])

    def credentials(self, user: Mapping[str, Any], cluster: Mapping[str, Any]) -> Credentials:
        if user.get("auth-provider"):
            raise KubeconfigError(
                f"kubeconfig {self.path}: auth-provider is not supported (Kubernetes removed "
                "those helpers); use the provider's exec plugin (user.exec) instead"
            )
        if user.get("token"):
            return FixedCredentials.bearer(str(user["token"]))
        if user.get("tokenFile"):
            token_file = self.folder / str(user["tokenFile"])
            self._read("tokenFile", token_file)
            return TokenFile(token_file)
        if user.get("username") or user.get("password"):
            return FixedCredentials.basic(
                str(user.get("username", "")), str(user.get("password", ""))
            )
        if user.get("exec"):
            return ExecPlugin(self.exec_plugin(user["exec"], cluster))
        return NO_CREDENTIALS

    def client_certificate(self, user: Mapping[str, Any]) -> ClientCertificate | None:
        certificate = self.pem(user, "client-certificate")
        key = self.pem(user, "client-key")
        if (certificate is None) != (key is None):
            raise KubeconfigError(
                f"kubeconfig {self.path}: a client certificate needs both client-certificate "
                "and client-key (or their -data forms); set the missing one"
            )
        if certificate is None or key is None:
            return None
        return ClientCertificate(
            certificate,
            key,
            certificate_file=self.source(user, "client-certificate"),
            key_file=self.source(user, "client-key"),
        )

    def exec_plugin(self, spec: Mapping[str, Any], cluster: Mapping[str, Any]) -> ExecPluginSpec:
        api_version = spec.get("apiVersion")
        if api_version not in API_VERSIONS:
            raise KubeconfigError(
                f"kubeconfig {self.path}: user.exec.apiVersion {api_version!r} is not one of "
                f"{', '.join(API_VERSIONS)}; use one of them"
            )
        if not spec.get("command"):
            raise KubeconfigError(f"kubeconfig {self.path}: user.exec has no command; set one")
        if spec.get("interactiveMode") == "Always":
            raise KubeconfigError(
                f"kubeconfig {self.path}: the exec plugin needs a terminal "
                "(interactiveMode: Always), which a controller does not have; use a "
                "non-interactive login"
            )
        return ExecPluginSpec(
            command=resolve_command(str(spec["command"]), self.folder),
            api_version=str(api_version),
            args=tuple(str(a) for a in spec.get("args") or ()),
            env=tuple((str(e["name"]), str(e.get("value", ""))) for e in spec.get("env") or ()),
            install_hint=str(spec.get("installHint") or ""),
            cluster=self._exec_cluster(cluster) if spec.get("provideClusterInfo") else None,
        )

    @staticmethod
    def _exec_cluster(cluster: Mapping[str, Any]) -> dict[str, Any]:
        """The cluster as an exec plugin is told of it (ExecCredential spec.cluster)."""
        told = {
            key: cluster[key]
            for key in (
                "server",
                "tls-server-name",
                "insecure-skip-tls-verify",
                "certificate-authority-data",
            )
            if cluster.get(key)
        }
        for extension in cluster.get("extensions") or ():
            if isinstance(extension, dict) and extension.get("name") == EXEC_CLUSTER_CONFIG:
                told["config"] = extension.get("extension")
        return told

    def _read(self, name: str, file: Path) -> str:
        try:
            return file.read_text()
        except OSError as error:
            raise KubeconfigError(
                f"kubeconfig {self.path}: {name} {file} cannot be read ({error.strerror}); "
                "fix the path"
            ) from None
