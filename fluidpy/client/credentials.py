"""Who a process is to the API server: the headers (and client certificate) each request carries.

Some credentials are fixed for the life of the process (a kubeconfig's token or password); some
change under it and must be read again: a pod's service-account token is rotated by the kubelet
(bound tokens live an hour), an exec plugin's token expires. `Credentials` hides the difference
from the transport, which asks for headers before every request and reports a 401 so that a
source that can refresh does so at once instead of at its next scheduled time.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fluidpy.client.errors import TransportError

TOKEN_REREAD_INTERVAL = 60.0
"""Seconds between reads of a token file. The kubelet rewrites a bound service-account token
when 80% of its life (an hour by default) has passed, so a minute-old copy is always valid;
client-go re-reads on the same schedule."""


class CredentialsError(TransportError):
    """Credentials could not be obtained for a request (a token file or exec plugin failed).

    A TransportError, so callers treat it like an unreachable server: retry with backoff."""


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate and its private key, both PEM, and the files they were read from
    when they were (see TLSSettings.ca_file for why that matters)."""

    certificate: bytes
    key: bytes = field(repr=False)
    certificate_file: Path | None = field(default=None, compare=False)
    key_file: Path | None = field(default=None, compare=False)


class Credentials(Protocol):
    """A source of per-request credentials; safe to call from many threads."""

    def headers(self) -> Mapping[str, str]:
        """The headers that authenticate a request now (empty when a certificate does it)."""
        ...

    def client_certificate(self) -> ClientCertificate | None:
        """A client certificate this source supplies (an exec plugin may), else None."""
        ...

    def refresh(self, rejected: Mapping[str, str]) -> bool:
        """Called after the server answered 401 to a request that carried `rejected` (the very
        mapping `headers()` gave): obtain fresh credentials where the source can. Returns
        whether they changed, i.e. whether sending the request again can help. When `rejected`
        is no longer current, another request has already refreshed: True, without asking the
        source again (a burst of 401s runs an exec plugin once, not once per request)."""
        ...


@dataclass(frozen=True)
class FixedCredentials:
    """Credentials that never change: none, a bearer token, or a user name and password."""

    authorization: str | None = field(default=None, repr=False)

    @classmethod
    def bearer(cls, token: str) -> FixedCredentials:
        return cls(f"Bearer {token}")

    @classmethod
    def basic(cls, username: str, password: str) -> FixedCredentials:
        pair = base64.b64encode(f"{username}:{password}".encode()).decode()
        return cls(f"Basic {pair}")

    def headers(self) -> Mapping[str, str]:
        return {} if self.authorization is None else {"Authorization": self.authorization}

    def client_certificate(self) -> ClientCertificate | None:
        return None

    def refresh(self, rejected: Mapping[str, str]) -> bool:
        return False


NO_CREDENTIALS = FixedCredentials()
"""For a server that needs none, or a client certificate that does the authenticating."""


class TokenFile:
    """A bearer token read from a file (a pod's service-account token, a kubeconfig's
    tokenFile), read again every `reread_interval` seconds (default TOKEN_REREAD_INTERVAL) and
    after a 401, because whoever writes it rotates it."""

    def __init__(
        self,
        path: Path,
        *,
        reread_interval: float = TOKEN_REREAD_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._reread_interval = reread_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._headers: Mapping[str, str] = {"Authorization": f"Bearer {self._read()}"}
        self._read_at = clock()

    def headers(self) -> Mapping[str, str]:
        if self._clock() - self._read_at >= self._reread_interval:
            with self._lock:
                if self._clock() - self._read_at >= self._reread_interval:
                    try:
                        self._reread()
                    except CredentialsError:
                        # Mid-rotation or briefly unreadable: the token in hand is still the
                        # best bet, and a 401 or the next interval tries the file again.
                        self._read_at = self._clock()
        return self._headers

    def client_certificate(self) -> ClientCertificate | None:
        return None

    def refresh(self, rejected: Mapping[str, str]) -> bool:
        with self._lock:
            if self._headers is not rejected:
                return True
            return self._reread()

    def _reread(self) -> bool:
        """Read the file now; whether the token changed."""
        token = self._read()
        self._read_at = self._clock()
        if self._headers.get("Authorization") == f"Bearer {token}":
            return False
        self._headers = {"Authorization": f"Bearer {token}"}
        return True

    def _read(self) -> str:
        try:
            token = self.path.read_text().strip()
        except OSError as error:
            raise CredentialsError(f"cannot read the token file {self.path}: {error}") from None
        if not token:
            raise CredentialsError(f"the token file {self.path} is empty")
        return token
