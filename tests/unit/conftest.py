"""Fixtures shared by the unit tests."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Answer = Callable[[str, Mapping[str, str]], tuple[int, Any]]
"""(request path, request headers) -> (status code, JSON document to send back)."""


@pytest.fixture
def loopback_server() -> Iterator[Callable[..., str]]:
    """`serve(answer, tls=None)` starts a loopback HTTP server standing in for an API server and
    returns its URL: every GET is answered with what `answer` says, over TLS when given a
    server-side context. Every server started is stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def serve(answer: Answer, tls: ssl.SSLContext | None = None) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code, document = answer(self.path, dict(self.headers.items()))
                body = json.dumps(document).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
