"""The /metrics endpoint: fluidpy.metrics.REGISTRY in Prometheus text (or OpenMetrics) format.

Served by the manager on its metrics bind address (":8080" by default, like controller-runtime;
"0" disables it). The content type follows the scraper's Accept header, so both Prometheus'
classic parser and OpenMetrics scrapers work.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from fluidpy.httpserver import HTTPServer, Response
from fluidpy.metrics import REGISTRY

METRICS_PATH = "/metrics"


class MetricsHandler:
    """Renders a registry on GET /metrics; any other path is 404."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def __call__(
        self, path: str, _query: Mapping[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        if path != METRICS_PATH:
            return Response(404, b"not found\n")
        accept = next((v for k, v in headers.items() if k.lower() == "accept"), "")
        encoder, content_type = choose_encoder(accept)
        return Response(200, encoder(self._registry), {"Content-Type": content_type})


def metrics_server(address: tuple[str, int], registry: CollectorRegistry = REGISTRY) -> HTTPServer:
    """An HTTPServer (not yet started) exposing `registry` at /metrics."""
    return HTTPServer("metrics", address, MetricsHandler(registry))
