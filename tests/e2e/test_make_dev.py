"""`make dev` brings a sample runtime to Bound on a fresh local cluster, showing each step."""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_dev_brings_the_demofs_sample_to_bound_and_warms_its_cache() -> None:
    name = f"dev-{secrets.token_hex(3)}"
    try:
        result = subprocess.run(
            [
                sys.executable,
                str(REPO / "hack" / "dev.py"),
                "--exit-when-bound",
                "--cluster",
                name,
                "--metrics-port",
                str(free_port()),
                "--probe-port",
                str(free_port()),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        subprocess.run(
            [sys.executable, "-m", "fluidpy_cli.main", "cluster", "delete", "--name", name],
            capture_output=True,
            check=False,
            timeout=60,
        )

    assert result.returncode == 0, result.stdout + result.stderr
    for number in range(1, 7):
        assert f"[{number}/6]" in result.stdout
    assert "applied CacheRuntime demofs" in result.stdout
    assert "Dataset default/demofs is Bound" in result.stdout
    assert "[6/6] DataLoad default/demofs-warmup" in result.stdout
    assert re.search(r"^\s+[0-9.]+s  Complete\s+\d+s$", result.stdout, re.M), result.stdout
