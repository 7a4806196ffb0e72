"""Liveness (/healthz) and readiness (/readyz) endpoints built from named checks.

A check is a callable that returns to pass and raises to fail; the exception's message is the
reason shown. Each endpoint runs all of its checks and answers 200 "ok" only when every one
passes, else 500 naming the failures. Every check is also served on its own at
`/<endpoint>/<name>`, so a person (or a more specific probe) can ask about one thing, and
`?verbose` lists every check with its outcome even on success.

Readiness and liveness differ on purpose: the manager's default readiness check fails until the
informer caches have synced (a replica that cannot read yet should not count as available),
while liveness only says the process still serves HTTP, because restarting a controller that is
merely waiting for the API server fixes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from fluidpy.httpserver import Response

Check = Callable[[], None]


class CheckError(Exception):
    """A convenient exception for checks to raise; any exception fails a check."""


def ping() -> None:
    """Always passes: answering at all proves the process is alive."""


class Checks:
    """A named set of checks behind one endpoint (for example "readyz")."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._checks: dict[str, Check] = {}
        self._lock = threading.Lock()

    def add(self, name: str, check: Check) -> None:
        if not name or "/" in name:
            raise ValueError(f"check name must be non-empty and contain no '/': {name!r}")
        with self._lock:
            if name in self._checks:
                raise ValueError(f"{self.endpoint} check {name!r} is already registered")
            self._checks[name] = check

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._checks)

    def run(self, name: str) -> str | None:
        """The failure reason of one check, or None when it passes."""
        with self._lock:
            check = self._checks[name]
        try:
            check()
        except Exception as exc:
            return str(exc) or type(exc).__name__
        return None

    def handle(self, path: str, query: Mapping[str, list[str]]) -> Response:
        """Answer `/<endpoint>` or `/<endpoint>/<check>`; `path` is the request path."""
        rest = path.removeprefix(f"/{self.endpoint}").strip("/")
        verbose = "verbose" in query
        if rest:
            if rest not in self.names():
                return Response(404, f"no {self.endpoint} check named {rest!r}\n".encode())
            reason = self.run(rest)
            if reason is None:
                return Response(200, b"ok\n")
            return Response(500, f"[-]{rest} failed: {reason}\n".encode())
        lines: list[str] = []
        failed = False
        for name in self.names():
            reason = self.run(name)
            if reason is None:
                if verbose:
                    lines.append(f"[+]{name} ok")
            else:
                failed = True
                lines.append(f"[-]{name} failed: {reason}")
        if failed:
            lines.append(f"{self.endpoint} check failed")
            return Response(500, ("\n".join(lines) + "\n").encode())
        if verbose:
            lines.append(f"{self.endpoint} check passed")
            return Response(200, ("\n".join(lines) + "\n").encode())
        return Response(200, b"ok\n")


class HealthProbes:
    """/healthz and /readyz on one port, as Kubernetes probes expect."""

    def __init__(self) -> None:
        self.healthz = Checks("healthz")
        self.readyz = Checks("readyz")

    def handle(
        self, path: str, query: Mapping[str, list[str]], _headers: Mapping[str, str]
    ) -> Response:
        for checks in (self.healthz, self.readyz):
            if path == f"/{checks.endpoint}" or path.startswith(f"/{checks.endpoint}/"):
                return checks.handle(path, query)
        return Response(404, b"not found\n")
