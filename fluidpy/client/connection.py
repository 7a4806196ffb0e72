"""The connection to one API server: its address, a TLS-configured pool, the credentials.

fluidpy speaks HTTP to the API server itself (transport.py, watch.py); what every request needs
is held here. The official `kubernetes` package could hold it too, but importing any part of it
imports every generated model: 7-19 MiB of memory and most of a second of start-up, for a
process that never builds one of those models (docs/performance.md).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import ssl
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlsplit

import urllib3

from fluidpy.client.credentials import (
    NO_CREDENTIALS,
    ClientCertificate,
    Credentials,
    CredentialsError,
)

CONNECTION_POOL_SIZE = 64
"""Connections kept open to the API server. A manager runs an informer watch per kind plus
several workers per controller, all through one pool; the official client's 10 left requests
waiting and urllib3 warning "connection pool is full". Connections open only when needed, so
the size costs nothing while idle."""


@dataclass(frozen=True)
class TLSSettings:
    """How to trust the server and prove who we are on the TLS layer."""

    ca: bytes | None = field(default=None, repr=False)
    """PEM certificates to trust for the server; None trusts the system's store."""
    ca_file: Path | None = None
    """The file `ca` was read from, if any: handed as it is to libraries that take paths only
    (pod exec), so that nothing needs writing in a pod whose root filesystem is read-only."""
    insecure: bool = False
    """Skip verifying the server's certificate (a kubeconfig's insecure-skip-tls-verify)."""
    server_name: str | None = None
    """The name to verify the certificate against (and send as SNI), when not the host's."""
    client_certificate: ClientCertificate | None = None


@dataclass(frozen=True)
class TLSFiles:
    """TLS material as file paths, for libraries that take nothing else; None where unset."""

    ca: str | None
    certificate: str | None
    key: str | None


class ApiServerConnection:
    """Everything needed to send a request to one API server; shared by every client of a
    process, safe to use from many threads.

    `host` is the server's URL; `pool_size` (default CONNECTION_POOL_SIZE) bounds the
    connections kept open; `user_agent` (default fluidpy/<version> (<os>/<arch>)) names the
    client in the API server's logs and audit events. A client certificate that `credentials`
    supply (an exec plugin's) replaces the TLS settings' one once it is first used.
    """

    def __init__(
        self,
        host: str,
        *,
        tls: TLSSettings = TLSSettings(),
        credentials: Credentials = NO_CREDENTIALS,
        pool_size: int = CONNECTION_POOL_SIZE,
        user_agent: str | None = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.user_agent = user_agent or default_user_agent()
        self.tls = tls
        self.credentials = credentials
        self._lock = threading.Lock()
        self._certificate = tls.client_certificate
        self._tls_files: tuple[ClientCertificate | None, TLSFiles] | None = None
        options: dict[str, object] = {"maxsize": pool_size}
        if urlsplit(self.host).scheme == "https":
            self._ssl_context: ssl.SSLContext | None = ssl_context(tls)
            options["ssl_context"] = self._ssl_context
            if tls.server_name:
                options["server_hostname"] = tls.server_name
        else:
            self._ssl_context = None
        self.pool_manager = urllib3.PoolManager(**options)  # type: ignore[arg-type]

    def auth_headers(self) -> Mapping[str, str]:
        """The headers that authenticate a request now, refreshed as their source requires;
        pass the very mapping back to `rejected` after a 401."""
        headers = self.credentials.headers()
        certificate = self.credentials.client_certificate()
        if certificate is not None and certificate != self._certificate:
            self._use_certificate(certificate)
        return headers

    def rejected(self, headers: Mapping[str, str]) -> bool:
        """The server answered 401 to a request that carried `headers`: refresh what can be
        refreshed; whether sending again can help."""
        return self.credentials.refresh(headers)

    def tls_files(self) -> TLSFiles:
        """The TLS material as file paths, for the websocket of pod exec, whose library takes
        paths only: the files it was read from where there are some (a pod's service account
        CA), else private copies (0600 in a 0700 folder, removed when the process exits),
        written on first call and again when the client certificate changed."""
        with self._lock:
            certificate = self._certificate
            if self._tls_files is not None and self._tls_files[0] == certificate:
                return self._tls_files[1]
            folder = _PrivateFolder()
            files = TLSFiles(
                ca=folder.file("ca.crt", self.tls.ca, self.tls.ca_file), certificate=None, key=None
            )
            if certificate is not None:
                files = replace(
                    files,
                    certificate=folder.file(
                        "client.crt", certificate.certificate, certificate.certificate_file
                    ),
                    key=folder.file("client.key", certificate.key, certificate.key_file),
                )
            self._tls_files = (certificate, files)
            return files

    def close(self) -> None:
        """Close every pooled connection; the object stays usable and reconnects on demand."""
        self.pool_manager.clear()

    def _use_certificate(self, certificate: ClientCertificate) -> None:
        with self._lock:
            if certificate == self._certificate or self._ssl_context is None:
                return
            try:
                load_client_certificate(self._ssl_context, certificate)
            except ssl.SSLError as error:
                raise CredentialsError(
                    "the client certificate and key from the credentials' source are not valid "
                    f"PEM ({error.reason or error})"
                ) from None
            self._certificate = certificate
        # Connections made with the old certificate would keep presenting it.
        self.pool_manager.clear()


@functools.cache
def default_user_agent() -> str:
    """fluidpy/<version> (<os>/<arch>), the shape client-go gives its programs' names."""
    try:
        installed = version("fluidpy")
    except PackageNotFoundError:
        installed = "unknown"
    return f"fluidpy/{installed} ({sys.platform}/{os.uname().machine})"


def ssl_context(tls: TLSSettings) -> ssl.SSLContext:
    """A client context trusting `tls.ca` (else the system's CAs) and presenting its client
    certificate. Raises ssl.SSLError for PEM that does not parse."""
    if tls.ca:
        context = ssl.create_default_context(cadata=tls.ca.decode("ascii", errors="replace"))
    else:
        context = ssl.create_default_context()
    if tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.client_certificate is not None:
        load_client_certificate(context, tls.client_certificate)
    return context


def load_client_certificate(context: ssl.SSLContext, certificate: ClientCertificate) -> None:
    """Load a certificate and key: from the files they came from, else (the ssl module reads
    files only) through a private temporary file that is removed at once."""
    if certificate.certificate_file is not None and certificate.key_file is not None:
        context.load_cert_chain(certificate.certificate_file, certificate.key_file)
        return
    descriptor, path = tempfile.mkstemp(prefix="fluidpy-client-", suffix=".pem")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(certificate.certificate.rstrip(b"\n") + b"\n" + certificate.key)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)


class _PrivateFolder:
    """A 0700 temporary folder, made on the first file written (a manager pod's root filesystem
    is read-only: nothing is written there unless needed) and removed when the process exits."""

    def __init__(self) -> None:
        self._path: Path | None = None

    def file(self, name: str, content: bytes | None, source: Path | None) -> str | None:
        """`source` when the content came from a file, else a private copy of `content`."""
        if source is not None:
            return str(source)
        if content is None:
            return None
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="fluidpy-tls-"))
            atexit.register(shutil.rmtree, self._path, ignore_errors=True)
        descriptor = os.open(self._path / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        return str(self._path / name)
