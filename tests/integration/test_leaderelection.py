"""Leader election between manager processes sharing one Lease on a real API server.

Each manager is a separate process running the same small program, so a crash is a real
SIGKILL (no release, renewals simply stop) and a clean exit is a real SIGTERM handled by the
manager's signal handler. Timings are printed as figures and bounded only loosely: a takeover
after a crash must come within lease duration + the candidates' maximum retry interval + slack,
and after a clean exit well within one lease duration.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

LEASE_DURATION = 6.0
RENEW_DEADLINE = 4.0
RETRY_PERIOD = 1.0
MAX_RETRY_INTERVAL = RETRY_PERIOD * 1.2  # fluidpy.leaderelection.JITTER_FACTOR
SLACK = 4.0  # process scheduling, API latency and this test's polling on a shared 2-core machine
WAIT = 60.0

MANAGER_PROGRAM = """
import sys
from pathlib import Path

from fluidpy import log
from fluidpy.client import GVK
from fluidpy.client.config import load_connection
from fluidpy.controller import LabelSelectorPredicate
from fluidpy.manager import Manager, ManagerOptions

kubeconfig, namespace, identity, lease, reconciled = sys.argv[1:6]
duration, deadline, retry = (float(v) for v in sys.argv[6:9])
log.configure("json", "info")
manager = Manager(
    load_connection(Path(kubeconfig)),
    ManagerOptions(
        namespaces=(namespace,),
        leader_election=True,
        leader_election_id=lease,
        leader_election_namespace=namespace,
        leader_election_identity=identity,
        lease_duration=duration,
        renew_deadline=deadline,
        retry_period=retry,
        health_probe_bind_address="0",
        metrics_bind_address="0",
    ),
)


def reconcile(ctx, request):
    with open(reconciled, "a") as out:
        out.write(f"{request.name}\\n")


manager.controller("elect").for_(
    GVK("", "v1", "ConfigMap"), predicates=[LabelSelectorPredicate("elect=yes")]
).complete(reconcile)
manager.run()
"""


class ManagerProcess:
    def __init__(
        self,
        tmp: Path,
        cluster: LocalCluster,
        namespace: str,
        identity: str,
        source: str = MANAGER_PROGRAM,
    ) -> None:
        self.identity = identity
        self.reconciled_path = tmp / f"{identity}.reconciled"
        self.reconciled_path.touch()
        self.log_path = tmp / f"{identity}.log"
        program = tmp / "manager_program.py"
        program.write_text(source)
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(program),
                str(cluster.kubeconfig),
                namespace,
                identity,
                "elect",
                str(self.reconciled_path),
                str(LEASE_DURATION),
                str(RENEW_DEADLINE),
                str(RETRY_PERIOD),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def reconciled(self) -> set[str]:
        return set(self.reconciled_path.read_text().split())

    def output(self) -> str:
        return self.log_path.read_text()

    def synced(self) -> bool:
        return "informer caches synced" in self.output()

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self) -> int:
        code = self.process.wait(WAIT)
        self._log.close()
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait()


@pytest.fixture
def spawn(tmp_path: Path, cluster: LocalCluster, namespace: str) -> Iterator[list[ManagerProcess]]:
    started: list[ManagerProcess] = []
    yield started
    for process in started:
        process.close()


def start(
    spawn: list[ManagerProcess],
    tmp: Path,
    cluster: LocalCluster,
    namespace: str,
    identity: str,
    source: str = MANAGER_PROGRAM,
) -> ManagerProcess:
    process = ManagerProcess(tmp, cluster, namespace, identity, source)
    spawn.append(process)
    return process


def holder(cluster: LocalCluster, namespace: str) -> str | None:
    lease = cluster.request(
        "GET", f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/elect"
    )
    return None if lease is None else lease["spec"].get("holderIdentity", "")


def create_configmaps(cluster: LocalCluster, namespace: str, names: list[str]) -> None:
    for name in names:
        cluster.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "labels": {"elect": "yes"}},
            },
        )


def two_managers_with_a_leader(
    spawn: list[ManagerProcess],
    tmp: Path,
    cluster: LocalCluster,
    namespace: str,
    source: str = MANAGER_PROGRAM,
) -> tuple[ManagerProcess, ManagerProcess]:
    """Start a, wait until it leads, start b, wait until b's caches have synced."""
    a = start(spawn, tmp, cluster, namespace, "manager-a", source)
    wait_for(lambda: holder(cluster, namespace) == "manager-a", "a to lead", timeout=WAIT)
    b = start(spawn, tmp, cluster, namespace, "manager-b", source)
    wait_for(b.synced, "b's caches to sync", timeout=WAIT)
    return a, b


def test_exactly_one_manager_reconciles_and_a_crashed_leader_is_replaced_within_the_lease(
    spawn: list[ManagerProcess], tmp_path: Path, cluster: LocalCluster, namespace: str
) -> None:
    a, b = two_managers_with_a_leader(spawn, tmp_path, cluster, namespace)
    names = ["one", "two", "three"]
    create_configmaps(cluster, namespace, names)
    wait_for(lambda: a.reconciled() == set(names), "the leader's reconciles", timeout=WAIT)
    assert b.reconciled() == set(), "the standby must not reconcile"

    crashed_at = time.monotonic()
    a.signal(signal.SIGKILL)  # no release: b must wait for the lease to run out
    wait_for(
        lambda: holder(cluster, namespace) == "manager-b",
        "b to take over",
        timeout=WAIT,
        interval=0.05,
    )
    takeover = time.monotonic() - crashed_at
    print(
        f"\ntakeover after crash: {takeover:.2f} s = {takeover / LEASE_DURATION:.2f} x lease "
        f"duration ({LEASE_DURATION} s, retry period {RETRY_PERIOD} s)"
    )
    assert takeover <= LEASE_DURATION + MAX_RETRY_INTERVAL + SLACK
    # b queued the objects while standing by, so it reconciles them as soon as it leads.
    wait_for(lambda: b.reconciled() == set(names), "the new leader's reconciles", timeout=WAIT)
    assert a.wait() == -signal.SIGKILL


def test_a_clean_exit_releases_the_lease_so_the_standby_takes_over_at_once(
    spawn: list[ManagerProcess], tmp_path: Path, cluster: LocalCluster, namespace: str
) -> None:
    a, b = two_managers_with_a_leader(spawn, tmp_path, cluster, namespace)
    create_configmaps(cluster, namespace, ["one"])
    wait_for(lambda: "one" in a.reconciled(), "the leader's reconcile", timeout=WAIT)

    stopped_at = time.monotonic()
    a.signal(signal.SIGTERM)
    wait_for(
        lambda: holder(cluster, namespace) == "manager-b",
        "b to take over",
        timeout=WAIT,
        interval=0.05,
    )
    takeover = time.monotonic() - stopped_at
    print(
        f"\ntakeover after clean exit: {takeover:.2f} s = "
        f"{takeover / LEASE_DURATION:.2f} x lease duration ({LEASE_DURATION} s)"
    )
    assert a.wait() == 0
    assert "released the lease" in a.output()
    assert takeover < LEASE_DURATION, "a released lease must not be waited out"
    wait_for(lambda: b.reconciled() == {"one"}, "the new leader's reconcile", timeout=WAIT)


def test_a_leader_that_loses_its_lease_stops_and_exits_with_an_error(
    spawn: list[ManagerProcess], tmp_path: Path, cluster: LocalCluster, namespace: str
) -> None:
    a = start(spawn, tmp_path, cluster, namespace, "manager-a")
    wait_for(lambda: holder(cluster, namespace) == "manager-a", "a to lead", timeout=WAIT)
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    cluster.request(  # someone else takes the lease (a mistake, or a partition healing)
        "PATCH",
        f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/elect",
        {"spec": {"holderIdentity": "intruder", "renewTime": now}},
        content_type="application/merge-patch+json",
    )
    code = a.wait()
    assert code != 0
    assert "LeaderElectionLostError" in a.output()
    assert holder(cluster, namespace) == "intruder", "a lost lease is not released"


WRITER_PROGRAM = (
    MANAGER_PROGRAM.split("\n\ndef reconcile", maxsplit=1)[0].replace(
        'log.configure("json", "info")', 'log.configure("json", "debug")'
    )
    + """

import itertools
import time

import structlog

counter = itertools.count()
CONFIGMAP = GVK("", "v1", "ConfigMap")
written = structlog.get_logger("writer")


def reconcile(ctx, request):
    # A long pass of many writes, so a pause of the process lands in the middle of one.
    with open(reconciled, "a") as out:
        out.write(f"{request.name}\\n")
    for _ in range(40):
        patch = {"metadata": {"annotations": {"written-by": identity, "n": str(next(counter))}}}
        done = manager.client.patch(CONFIGMAP, request.name, request.namespace, patch, ctx=ctx)
        written.info("configmap written", resourceVersion=done["metadata"]["resourceVersion"])
        time.sleep(0.05)


manager.controller("elect").for_(
    CONFIGMAP, predicates=[LabelSelectorPredicate("elect=yes")]
).complete(reconcile)
manager.run()
"""
)
"""The manager of MANAGER_PROGRAM whose reconciles write, logging every request at debug."""


STOPPED_RECONCILES = ("reconcile stopped by shutdown", "reconcile stopped: leadership not proven")


def api_writes(process: ManagerProcess) -> tuple[list[dict[str, Any]], int]:
    """The process's writes to ConfigMaps as its request log shows them, and how many it did
    not send (refused by the fence, or cut short by the stop that followed)."""
    writes, refused = [], 0
    for line in process.output().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") in STOPPED_RECONCILES:
            refused += 1
        if "/configmaps/" not in str(entry.get("path", "")):
            continue
        if entry.get("msg") == "api write":
            writes.append(entry)
        elif entry.get("msg") == "api write fenced":
            refused += 1
    return writes, refused


def applied_order(process: ManagerProcess) -> list[int]:
    """The etcd revisions at which the process's ConfigMap writes were applied."""
    orders = []
    for line in process.output().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "configmap written":
            orders.append(int(entry["resourceVersion"]))
    return orders


def test_a_leader_paused_past_its_lease_sends_no_write_after_its_successor_starts(
    spawn: list[ManagerProcess], tmp_path: Path, cluster: LocalCluster, namespace: str
) -> None:
    a, b = two_managers_with_a_leader(spawn, tmp_path, cluster, namespace, WRITER_PROGRAM)
    create_configmaps(cluster, namespace, ["one", "two", "three"])
    wait_for(lambda: len(api_writes(a)[0]) >= 10, "the leader in a pass", timeout=WAIT)

    a.signal(signal.SIGSTOP)
    wait_for(lambda: holder(cluster, namespace) == "manager-b", "b to take over", timeout=WAIT)
    wait_for(lambda: len(api_writes(b)[0]) >= 4, "the new leader writing", timeout=WAIT)
    a.signal(signal.SIGCONT)
    resumed = time.time()

    assert a.wait() != 0
    assert "LeaderElectionLostError" in a.output()
    old_writes, old_refused = api_writes(a)
    # The order in which the API server applied the writes: resourceVersions are opaque to
    # clients, but on this one etcd they are its revisions, which only grow. Client clocks
    # cannot tell it: a write in flight when the process was paused is answered (and timed)
    # only after it resumes, though the server applied it before.
    successor_first = min(applied_order(b))
    late = [order for order in applied_order(a) if order >= successor_first]
    print(
        f"\nold leader: {len(old_writes)} writes, all applied before the new leader's first; "
        f"{old_refused} not sent after it resumed "
        f"({len([w for w in old_writes if w['sent'] >= resumed])} sent after resuming)"
    )
    assert late == [], f"writes of the old leader after its successor's first: {late}"
    assert old_refused >= 1, "the old leader resumed without trying to write: nothing was shown"
