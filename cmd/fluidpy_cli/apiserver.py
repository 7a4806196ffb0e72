"""Waiting for the API server at start-up instead of crashing.

A manager pod often starts while its control plane restarts (an upgrade, a reboot). Crashing
would put it in CrashLoopBackOff, whose delay grows to minutes, long after the API server is
back. So the manager says once, in one line, what it cannot reach, through which settings, and
what to check, then retries with backoff. Meanwhile its probe port answers: /healthz passes (the
process is alive and doing what it should) and /readyz fails until the manager's caches sync.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from fluidpy.client.connection import ApiServerConnection
from fluidpy.client.transport import Transport
from fluidpy.healthz import CheckError, HealthProbes, ping
from fluidpy.httpserver import HTTPServer, parse_bind_address

log = structlog.get_logger("fluidpy.manager")

FIRST_RETRY = 1.0
"""Seconds before the first retry: an API server restarting is usually back within seconds."""
LONGEST_RETRY = 30.0
"""Seconds between retries at most: an outage costs at most this much extra start-up time."""
PROBE_TIMEOUT = 10.0
"""Seconds one attempt waits for an answer."""


def _not_ready() -> None:
    raise CheckError("waiting for the API server")


def _in_words(error: BaseException) -> str:
    """The root cause a person can act on ("Connection refused", "certificate verify failed"),
    not the chain of HTTP library wrappers around it."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return str(seen.strerror)
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else (seen.__cause__ or seen.__context__)
    return str(error) or type(error).__name__


def wait_for_api_server(
    connection: ApiServerConnection,
    credentials: str,
    probe_address: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once the API server answers GET /version; see the module docstring."""
    transport = Transport(connection, qps=0, burst=0, request_timeout=PROBE_TIMEOUT)
    probes = HealthProbes()
    probes.healthz.add("ping", ping)
    probes.readyz.add("api-server", _not_ready)
    bind = parse_bind_address(probe_address)
    server = HTTPServer("health-probes", bind, probes.handle) if bind is not None else None
    serving = False
    reported = ""
    delay = FIRST_RETRY
    try:
        while True:
            try:
                transport.request("GET", "/version")
            except Exception as error:
                problem = _in_words(error)
                if server is not None and not serving:
                    server.start()
                    serving = True
                if problem != reported:
                    log.error(
                        f"cannot reach the API server at {transport.host} ({credentials}): "
                        f"{problem}; check that the control plane is running and that this "
                        "address and these credentials are right. Retrying with backoff "
                        f"(up to every {LONGEST_RETRY:.0f} s) until it answers"
                    )
                    reported = problem
                else:
                    log.debug("the API server still does not answer", retry_in=delay)
                sleep(delay)
                delay = min(delay * 2, LONGEST_RETRY)
                continue
            if reported:
                log.info("the API server answers; starting", address=transport.host)
            return
    finally:
        if server is not None and serving:
            server.stop()
