"""`fluidpy manager` in a test, run exactly as a user runs it: a process of its own.

An engine's end-to-end test wants the real thing, entry points and flags included, so the
engine is loaded the way it will be in production. The process gets the test's environment
(PYTHONPATH included, so an engine installed for the test is found), no metrics or health
ports (tests run in parallel), and is stopped when the block ends.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

STOP_TIMEOUT = 30.0
"""Seconds the manager gets to stop after SIGTERM before it is killed (it drains its queues)."""


class ManagerExited(RuntimeError):
    """The manager stopped before the test was done; the message ends with its log."""


@contextlib.contextmanager
def manager_process(kubeconfig: Path, *flags: str) -> Iterator[subprocess.Popen[bytes]]:
    """`fluidpy manager --kubeconfig <kubeconfig> <flags>` for the duration of the block."""
    command = [sys.executable, "-m", "fluidpy_cli.main", "manager", "--kubeconfig"]
    command += [str(kubeconfig), "--metrics-bind-address", "0"]
    command += ["--health-probe-bind-address", "0", *flags]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            exited = process.poll()
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if exited is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-4000:]
            raise ManagerExited(f"fluidpy manager exited early with code {exited}:\n{tail}")
