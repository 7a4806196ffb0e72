"""`make dev` brings a sample runtime to Bound and warms its cache on a fresh local cluster,
showing each step, and Ctrl-C stops the manager the way Kubernetes stops a pod: one signal,
then a graceful drain."""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from fluidpy_cli.cluster import cluster_dir

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 600.0
"""make dev creates a cluster and starts a manager; on a loaded 2-core machine that can take
minutes, and the test returns as soon as the Dataset is Bound."""


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The process's output, line by line, readable with a timeout; None marks its end."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def read_until(lines: queue.Queue[str | None], marker: str, seen: list[str]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not any(marker in line for line in seen):
        line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
        assert line is not None, "make dev ended early:\n" + "".join(seen)
        seen.append(line)


def test_make_dev_comes_up_and_ctrl_c_drains_the_manager() -> None:
    name = f"dev-{secrets.token_hex(3)}"
    make = subprocess.Popen(
        ["make", "--no-print-directory", "dev", f"DEV_CLUSTER={name}"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        # Its own process group, so the test can press Ctrl-C: a terminal sends SIGINT to every
        # process of the foreground group.
        start_new_session=True,
    )
    seen: list[str] = []
    try:
        lines = lines_of(make)
        read_until(lines, "The manager keeps running", seen)
        os.killpg(make.pid, signal.SIGINT)
        status = make.wait(timeout=120)
        while (line := lines.get(timeout=10)) is not None:
            seen.append(line)
        manager_log = (cluster_dir(name) / "manager.log").read_text()
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        subprocess.run(
            [sys.executable, "-m", "fluidpy_cli.main", "cluster", "delete", "--name", name],
            capture_output=True,
            check=False,
            timeout=60,
        )

    output = "".join(seen)
    for number in range(1, 7):
        assert f"[{number}/6]" in output
    assert f'[1/6] local control plane: "{name}"' in output
    assert "applied CacheRuntime demofs" in output
    assert "Dataset default/demofs is Bound" in output
    assert "[6/6] DataLoad: default/demofs-warmup" in output
    assert re.search(r"^\s+[0-9.]+s  Complete\s+\d+s$", output, re.M), output
    assert "manager stopped (exit status 0)" in output, output
    # make dies of the SIGINT it got itself, after its recipe ended well (no "Error" line).
    assert status == -signal.SIGINT, output
    assert "Error" not in output
    records = [json.loads(line) for line in manager_log.splitlines() if line.startswith("{")]
    signals = [i for i, r in enumerate(records) if r["msg"].startswith("signal received")]
    assert [records[i]["signal"] for i in signals] == [signal.SIGTERM]
    # What Ctrl-C is answerable for: everything logged from the signal on. (A reconcile that
    # failed while the sample came up, a write conflict say, is the controllers' business.)
    stopping = records[signals[0] :]
    assert [r for r in stopping if r["level"] in {"error", "critical"}] == []
    assert any(r["msg"] == "controller stopped" and r["drained"] for r in stopping)
    assert records[-1]["msg"] == "manager stopped"
