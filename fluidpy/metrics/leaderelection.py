"""Leader-election metrics, named and labelled as controller-runtime exports them."""

from prometheus_client import Gauge

from fluidpy.metrics import REGISTRY

MASTER_STATUS = Gauge(
    "leader_election_master_status",
    "1 while this process holds the named lease, 0 while it does not.",
    ["name"],
    registry=REGISTRY,
)
