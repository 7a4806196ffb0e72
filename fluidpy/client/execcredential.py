"""Credentials from a kubeconfig's exec plugin (client.authentication.k8s.io ExecCredential).

Cloud clusters hand out short-lived tokens through a command (`aws eks get-token`,
`gke-gcloud-auth-plugin`, `kubelogin`): the kubeconfig names it under `user.exec`, it prints an
ExecCredential whose status carries a token or a client certificate and, usually, when they
expire. The plugin runs on first use, again once its credentials expire, and again when the API
server refuses them (401). It never runs interactively: a manager has no terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fluidpy.client.credentials import ClientCertificate, CredentialsError

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
EXEC_TIMEOUT = 60.0
"""Seconds a plugin may run: one that asks an identity provider over the network takes seconds,
and a minute stops a hung one from holding every request of the process forever."""
OUTPUT_EXCERPT = 300
"""Characters of a failing plugin's standard error quoted in the error message."""


@dataclass(frozen=True)
class ExecPluginSpec:
    """A kubeconfig's `user.exec`: the command, how to run it, and what to tell it."""

    command: str
    api_version: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    install_hint: str = ""
    cluster: Mapping[str, Any] | None = None
    """What the plugin is told of the cluster (ExecCredential spec.cluster), only when the
    kubeconfig sets provideClusterInfo."""


@dataclass(frozen=True)
class _Issued:
    headers: Mapping[str, str]
    certificate: ClientCertificate | None
    expires: float | None


class ExecPlugin:
    """Credentials from running `spec`'s command, cached until they expire.

    `clock` (default time.time, the wall clock the plugin's expirationTimestamp is on) and `run`
    (default subprocess.run) are seams for tests.
    """

    def __init__(
        self,
        spec: ExecPluginSpec,
        *,
        clock: Callable[[], float] = time.time,
        run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
    ) -> None:
        self.spec = spec
        self._clock = clock
        self._run = run
        self._lock = threading.Lock()
        self._issued: _Issued | None = None

    def headers(self) -> Mapping[str, str]:
        return self._current().headers

    def client_certificate(self) -> ClientCertificate | None:
        return self._current().certificate

    def refresh(self, rejected: Mapping[str, str]) -> bool:
        with self._lock:
            if self._issued is not None and self._issued.headers is not rejected:
                return True
            before = self._issued
            self._issued = self._obtain()
            return before is None or (before.headers, before.certificate) != (
                self._issued.headers,
                self._issued.certificate,
            )

    def _current(self) -> _Issued:
        issued = self._issued
        if issued is not None and not self._expired(issued):
            return issued
        with self._lock:
            if self._issued is None or self._expired(self._issued):
                self._issued = self._obtain()
            return self._issued

    def _expired(self, issued: _Issued) -> bool:
        return issued.expires is not None and self._clock() >= issued.expires

    def _obtain(self) -> _Issued:
        spec = self.spec
        request: dict[str, Any] = {"interactive": False}
        if spec.cluster is not None:
            request["cluster"] = dict(spec.cluster)
        env = {
            **os.environ,
            **dict(spec.env),
            "KUBERNETES_EXEC_INFO": json.dumps(
                {"apiVersion": spec.api_version, "kind": "ExecCredential", "spec": request}
            ),
        }
        shown = " ".join([spec.command, *spec.args])
        try:
            done = self._run(
                [spec.command, *spec.args],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=EXEC_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            hint = f" ({spec.install_hint.strip()})" if spec.install_hint.strip() else ""
            raise CredentialsError(
                f"the kubeconfig's exec plugin `{spec.command}` was not found{hint}"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as error:
            raise CredentialsError(f"the exec plugin `{shown}` could not run: {error}") from None
        if done.returncode != 0:
            stderr = done.stderr.strip()[-OUTPUT_EXCERPT:]
            raise CredentialsError(
                f"the exec plugin `{shown}` exited with status {done.returncode}: {stderr}"
            )
        return self._issued_from(shown, done.stdout)

    def _issued_from(self, shown: str, output: str) -> _Issued:
        try:
            credential = json.loads(output)
        except json.JSONDecodeError:
            credential = None
        if not isinstance(credential, dict) or credential.get("kind") != "ExecCredential":
            raise CredentialsError(f"the exec plugin `{shown}` did not print an ExecCredential")
        if credential.get("apiVersion") != self.spec.api_version:
            raise CredentialsError(
                f"the exec plugin `{shown}` answered in {credential.get('apiVersion')}, "
                f"not {self.spec.api_version} as the kubeconfig asks"
            )
        status = credential.get("status") or {}
        token = status.get("token")
        cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
        if not token and not (cert and key):
            raise CredentialsError(
                f"the exec plugin `{shown}` gave neither status.token nor "
                "status.clientCertificateData with status.clientKeyData"
            )
        return _Issued(
            headers={"Authorization": f"Bearer {token}"} if token else {},
            certificate=ClientCertificate(cert.encode(), key.encode()) if cert and key else None,
            expires=_timestamp(shown, status.get("expirationTimestamp")),
        )


def _timestamp(shown: str, value: Any) -> float | None:
    """An RFC 3339 time as seconds since the epoch; None when the plugin gave none (the
    credentials then last until the server refuses them)."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise CredentialsError(
            f"the exec plugin `{shown}` gave an expirationTimestamp that is not an RFC 3339 "
            f"time: {value!r}"
        ) from None


def resolve_command(command: str, kubeconfig_dir: Path) -> str:
    """A relative command path with a directory part is relative to the kubeconfig's folder,
    as kubectl reads it; a bare name is looked up on PATH when it runs."""
    path = Path(command)
    if path.is_absolute() or os.sep not in command:
        return command
    return str(kubeconfig_dir / path)
