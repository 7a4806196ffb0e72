"""`fluidpy manager` started while its API server cannot be reached: one clear line, no crash,
probes that tell the kubelet "alive, not ready", and a normal start once the server answers.

The API server is made unreachable, then reachable, by pointing a kubeconfig at a loopback port
where nothing listens, and later opening a plain TCP forward from that port to the test cluster.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

WAIT = 60.0
UNREACHABLE = "cannot reach the API server at"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(port: int, path: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


@contextlib.contextmanager
def forward(port: int, target: tuple[str, int]) -> Iterator[None]:
    """A TCP forward from 127.0.0.1:`port` to `target` while the block runs."""
    listener = socket.create_server(("127.0.0.1", port))
    stop = threading.Event()

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(source, sink), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_an_unreachable_api_server_is_one_clear_line_then_the_manager_starts_by_itself(
    cluster: LocalCluster, crds: list[str], namespace: str, tmp_path: Path
) -> None:
    api = urlsplit(cluster.connection().host)
    gateway = free_port()
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    for entry in kubeconfig["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{gateway}"
    config_path = tmp_path / "gateway.kubeconfig"
    config_path.write_text(yaml.safe_dump(kubeconfig))
    probes = free_port()
    log_path = tmp_path / "manager.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("fluidpy")),
                "manager",
                "--kubeconfig",
                str(config_path),
                "--controllers",
                "dataset",
                "--namespace",
                namespace,
                "--health-probe-bind-address",
                f"127.0.0.1:{probes}",
                "--metrics-bind-address",
                "0",
                "--log-format",
                "console",
                "--log-level",
                "debug",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"},
        )
    try:
        wait_for(lambda: UNREACHABLE in log_path.read_text(), "the unreachable line", timeout=WAIT)
        assert wait_for(lambda: status(probes, "/healthz"), "/healthz", timeout=WAIT) == 200
        assert status(probes, "/readyz") == 500  # failing checks answer 500, as kubebuilder's
        wait_for(
            lambda: log_path.read_text().count("the API server still does not answer") >= 2,
            "two more attempts",
            timeout=WAIT,
        )
        assert process.poll() is None, "the manager must wait, not exit"
        lines = [line for line in log_path.read_text().splitlines() if UNREACHABLE in line]
        assert len(lines) == 1, lines
        assert f"{UNREACHABLE} 127.0.0.1:{gateway} (kubeconfig {config_path})" in lines[0]
        assert "Connection refused; check that the control plane is running" in lines[0]

        with forward(gateway, (api.hostname or "127.0.0.1", api.port or 443)):
            wait_for(
                lambda: "informer caches synced" in log_path.read_text(),
                "the manager to start once the API server answers",
                timeout=WAIT,
            )
            wait_for(lambda: status(probes, "/readyz") == 200, "/readyz", timeout=WAIT)
            process.send_signal(signal.SIGTERM)
            assert process.wait(WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
