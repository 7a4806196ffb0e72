"""Whether a client needs its own request rate limit, decided once against the API server.

A client-side token bucket protects an API server that cannot protect itself. Servers since
Kubernetes 1.20 (GA in 1.29) do, with API Priority and Fairness: every request is classified
into a flow and queued fairly on the server, so a busy controller slows itself down without
starving anyone else. Against such a server a client-side bucket only makes the controller slow:
at Fluid's 20 qps a manager creating 300 runtimes spends over four minutes waiting on its own
budget while the server is idle. controller-runtime has shipped without a client-side limit for
that reason since v0.15, as SIG API Machinery recommends; Flux turns its limit off when the
server has APF.

So the limit is off when the server advertises the flowcontrol API group, on (Fluid's 20 qps,
burst 30) when it does not, and whatever the operator asked for when a flag says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fluidpy.client.connection import ApiServerConnection
from fluidpy.client.errors import ApiError
from fluidpy.client.transport import Transport

FLOWCONTROL_GROUP = "flowcontrol.apiserver.k8s.io"
DEFAULT_QPS = 20.0
"""Fluid's client-side rate, used against a server without API Priority and Fairness."""
DEFAULT_BURST = 30
"""Fluid's client-side burst, with DEFAULT_QPS."""
DISCOVERY_TIMEOUT = 10.0
"""One discovery request at start-up; a server that cannot answer within this is treated as
having no APF, which keeps the conservative limit."""


@dataclass(frozen=True)
class RateLimit:
    """A client's request budget; qps <= 0 means no client-side limit at all."""

    qps: float
    burst: int

    @property
    def limited(self) -> bool:
        return self.qps > 0


UNLIMITED = RateLimit(0.0, 0)


def serves_flowcontrol(connection: ApiServerConnection) -> bool:
    """Whether the server advertises the flowcontrol API group (one discovery GET, unlimited).

    Any failure (the group is absent, the server is unreachable, discovery is forbidden) answers
    False: a limit that turns out unnecessary costs speed, a missing one can hurt the server.
    """
    transport = Transport(connection, qps=0, burst=0, request_timeout=DISCOVERY_TIMEOUT)
    try:
        group = transport.request("GET", f"/apis/{FLOWCONTROL_GROUP}")
    except ApiError:
        return False
    return isinstance(group, dict) and bool(group.get("versions"))


def client_rate_limit(
    qps: float | None, burst: int | None, server_has_apf: Callable[[], bool]
) -> RateLimit:
    """The limit for a client: the flags when either is given (the other at Fluid's default),
    else none when `server_has_apf()`, else Fluid's 20 qps with bursts of 30.

    `server_has_apf` is asked only when no flag is given.
    """
    if qps is not None or burst is not None:
        return RateLimit(
            DEFAULT_QPS if qps is None else qps, DEFAULT_BURST if burst is None else burst
        )
    if server_has_apf():
        return UNLIMITED
    return RateLimit(DEFAULT_QPS, DEFAULT_BURST)
