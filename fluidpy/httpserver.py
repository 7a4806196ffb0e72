"""A tiny threaded HTTP server for the probe and metrics endpoints.

Probes and scrapes are a few small GET requests a second, so the standard library's
ThreadingHTTPServer is enough and adds no dependency. Request handling is a plain function from
(path, query, headers) to a Response, which keeps the endpoints testable without sockets.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from fluidpy.log import get_logger

log = get_logger("fluidpy.httpserver")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/plain; charset=utf-8"}
    )


Handler = Callable[[str, Mapping[str, list[str]], Mapping[str, str]], Response]
"""(path, query parameters, request headers) -> Response."""


def parse_bind_address(address: str) -> tuple[str, int] | None:
    """Split "host:port" into its parts; None when serving is disabled.

    "0" and "" disable the server, as controller-runtime's flags do. An empty host (":8080")
    means every interface; port 0 ("127.0.0.1:0") asks the kernel for a free port, which tests
    use. IPv6 hosts are written in brackets: "[::1]:8080".
    """
    if address in ("", "0"):
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"bind address must look like host:port or :port, not {address!r}")
    host = host.removeprefix("[").removesuffix("]")
    return host, int(port)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Handler) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.handler = handler
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            response = self.server.handler(parts.path, query, dict(self.headers.items()))
        except Exception:
            log.exception("http handler failed", path=parts.path)
            response = Response(500, b"internal error\n")
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Probes arrive every few seconds; access lines would drown the controller's own logs."""


class HTTPServer:
    """Serves one handler on a background thread from start() until stop()."""

    def __init__(self, name: str, address: tuple[str, int], handler: Handler) -> None:
        self.name = name
        self._address = address
        self._handler = handler
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve; binding happens here so a busy port fails the caller at once."""
        server = _Server(self._address, self._handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name=self.name, daemon=True
        )
        self._thread.start()
        log.info("serving", server=self.name, address=f"{self._address[0]}:{self.port}")

    @property
    def port(self) -> int:
        """The bound port, which differs from the configured one when that was 0."""
        if self._server is None:
            raise RuntimeError(f"{self.name} server is not started")
        return int(self._server.server_address[1])

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
