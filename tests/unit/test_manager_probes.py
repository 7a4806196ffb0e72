"""The /healthz, /readyz and /metrics handlers, and the HTTP server behind them."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from fluidpy.healthz import Check, CheckError, Checks, HealthProbes, ping
from fluidpy.httpserver import HTTPServer, parse_bind_address
from fluidpy.metrics.server import MetricsHandler, metrics_server


def failing(reason: str) -> Check:
    def check() -> None:
        raise CheckError(reason)

    return check


def probes_with(ready: bool) -> HealthProbes:
    probes = HealthProbes()
    probes.healthz.add("ping", ping)
    probes.readyz.add("ping", ping)
    if ready:
        probes.readyz.add("informers-synced", ping)
    else:
        probes.readyz.add("informers-synced", failing("informer caches have not synced yet"))
    return probes


def test_readyz_is_ok_when_every_check_passes() -> None:
    response = probes_with(ready=True).handle("/readyz", {}, {})
    assert (response.status, response.body) == (200, b"ok\n")


def test_readyz_fails_naming_the_failing_check() -> None:
    response = probes_with(ready=False).handle("/readyz", {}, {})
    assert response.status == 500
    body = response.body.decode()
    assert "[-]informers-synced failed: informer caches have not synced yet" in body
    assert "[+]ping" not in body
    assert body.endswith("readyz check failed\n")


def test_verbose_lists_every_check_even_on_success() -> None:
    response = probes_with(ready=True).handle("/readyz", {"verbose": [""]}, {})
    assert response.status == 200
    assert response.body.decode().splitlines() == [
        "[+]informers-synced ok",
        "[+]ping ok",
        "readyz check passed",
    ]


def test_verbose_failure_shows_passing_and_failing_checks() -> None:
    response = probes_with(ready=False).handle("/readyz", {"verbose": [""]}, {})
    assert response.status == 500
    lines = response.body.decode().splitlines()
    assert "[+]ping ok" in lines
    assert lines[0].startswith("[-]informers-synced failed")


def test_each_check_is_served_on_its_own_path() -> None:
    probes = probes_with(ready=False)
    assert probes.handle("/readyz/ping", {}, {}).status == 200
    single = probes.handle("/readyz/informers-synced", {}, {})
    assert single.status == 500
    assert b"informers-synced failed" in single.body
    assert probes.handle("/readyz/nope", {}, {}).status == 404


def test_healthz_is_independent_of_readiness() -> None:
    probes = probes_with(ready=False)
    assert probes.handle("/healthz", {}, {}).status == 200
    assert probes.handle("/healthz/ping", {}, {}).status == 200


def test_any_exception_fails_a_check_with_its_message_or_type() -> None:
    checks = Checks("readyz")

    def broken() -> None:
        raise KeyError()

    checks.add("broken", broken)
    assert checks.run("broken") == "KeyError"


def test_unknown_paths_are_404() -> None:
    assert probes_with(ready=True).handle("/livez", {}, {}).status == 404


def test_check_names_are_unique_and_path_safe() -> None:
    checks = Checks("healthz")
    checks.add("ping", ping)
    with pytest.raises(ValueError):
        checks.add("ping", ping)
    with pytest.raises(ValueError):
        checks.add("a/b", ping)
    with pytest.raises(ValueError):
        checks.add("", ping)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("0", None),
        ("", None),
        (":8080", ("", 8080)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:9090", ("::1", 9090)),
    ],
)
def test_bind_addresses(address: str, expected: tuple[str, int] | None) -> None:
    assert parse_bind_address(address) == expected


@pytest.mark.parametrize("address", ["8080", "host:", "host:http"])
def test_malformed_bind_addresses_are_rejected(address: str) -> None:
    with pytest.raises(ValueError):
        parse_bind_address(address)


def test_metrics_handler_renders_the_registry_in_text_format() -> None:
    registry = CollectorRegistry()
    Counter("demo_total", "A demo.", ["controller"], registry=registry).labels("c").inc(3)
    response = MetricsHandler(registry)("/metrics", {}, {})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 'demo_total{controller="c"} 3.0' in response.body.decode()
    assert MetricsHandler(registry)("/other", {}, {}).status == 404


def test_metrics_handler_speaks_openmetrics_when_asked() -> None:
    registry = CollectorRegistry()
    Counter("demo_total", "A demo.", registry=registry).inc()
    response = MetricsHandler(registry)(
        "/metrics", {}, {"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.body.decode().endswith("# EOF\n")


def test_probe_and_metrics_servers_answer_over_http() -> None:
    registry = CollectorRegistry()
    Counter("served_total", "Served.", registry=registry).inc()
    probes = probes_with(ready=False)
    health = HTTPServer("health", ("127.0.0.1", 0), probes.handle)
    metrics = metrics_server(("127.0.0.1", 0), registry)
    health.start()
    metrics.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{health.port}/healthz") as r:
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"http://127.0.0.1:{health.port}/readyz?verbose")
        assert failed.value.code == 500
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics.port}/metrics") as r:
            assert "served_total 1.0" in r.read().decode()
    finally:
        health.stop()
        metrics.stop()


def test_a_handler_that_raises_answers_500_and_the_server_keeps_serving() -> None:
    calls = []

    def handler(path: str, query: object, headers: object) -> object:
        calls.append(path)
        if path == "/boom":
            raise RuntimeError("bug")
        return probes_with(ready=True).handle(path, {}, {})

    server = HTTPServer("test", ("127.0.0.1", 0), handler)  # type: ignore[arg-type]
    server.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/boom")
        assert failed.value.code == 500
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz") as r:
            assert r.status == 200
    finally:
        server.stop()
    assert calls == ["/boom", "/healthz"]


def test_a_busy_port_fails_at_start() -> None:
    first = HTTPServer("first", ("127.0.0.1", 0), probes_with(ready=True).handle)
    first.start()
    try:
        second = HTTPServer("second", ("127.0.0.1", first.port), probes_with(ready=True).handle)
        with pytest.raises(OSError):
            second.start()
    finally:
        first.stop()
