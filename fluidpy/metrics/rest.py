"""REST client metrics, named and labelled as client-go and controller-runtime export them.

`code` is the HTTP status as a string, or "<error>" when no response arrived (connection refused,
reset, TLS failure, timeout), as client-go reports it. `method` is the HTTP verb and `host` the
API server's host:port, so one process talking to two clusters keeps them apart.
"""

from prometheus_client import Counter

from fluidpy.metrics import REGISTRY

NO_RESPONSE = "<error>"

REST_CLIENT_REQUESTS = Counter(
    "rest_client_requests_total",
    "HTTP requests sent to the API server, by status code, method and host.",
    ["code", "method", "host"],
    registry=REGISTRY,
)
