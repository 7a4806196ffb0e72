"""Prometheus metrics of the framework.

fluidpy keeps its own registry, as controller-runtime does, so that embedding applications choose
what they expose and tests can read exact values. Metric names and labels are controller-runtime's,
so existing dashboards work unchanged. Each metric family lives in the submodule of the concept it
measures.
"""

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry(auto_describe=True)

__all__ = ["REGISTRY"]
