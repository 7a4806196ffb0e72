"""Sharding across `fluidpy manager --shards` processes on the local control plane.

One scenario, in stages that build on each other (each stage needs the objects of the one
before, and creating them is most of the test's time):

1. three shards; RUNTIMES Dataset and CacheRuntime pairs: every group lands on the shard the
   hash ring names and every Dataset is Bound;
2. kill -9 one shard: its groups move to the others within the Lease duration plus the
   sharder's poll and some slack, and converge;
3. a fourth shard joins: groups move to it, each through a drain (marked, released, moved);
4. all shards but one stop cleanly: everything moves to the last one and converges.

Throughout, every object and its group's controlled objects carry the same shard label, the
groups are spread within 20 % of even, and only the groups that must move do (the killed
shard's; to the joining shard). At the end two records show that no group was ever worked on by
two shards at once:
- the managers' logs: each shard logs when it takes an object over and when it releases it (with
  the reconcile id); a killed shard's work ends when it is killed, a stopped shard's when it
  released its Lease; no two shards' stretches on one group overlap;
- every object's managedFields: each shard writes as `fluidpy-<shard id>`, and the time of each
  shard's last write to an object lies within one of that shard's stretches on the object's
  group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fluidpy.client import GVK, Client
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK, RUNTIME_GVK
from fluidpy.sharding import RingConfig, drain_label, shard_label
from fluidpy.sharding.client import ShardClient
from fluidpy.testing import LocalCluster, wait_for

pytestmark = pytest.mark.integration

RUNTIMES = int(os.environ.get("FLUIDPY_SHARDING_RUNTIMES", "300"))
"""Groups (Dataset and CacheRuntime pairs), as many as the issue asks for."""
RING = "fluidpy"
NAMESPACE = "sharding-it"
LEASE_DURATION = 15.0  # the manager's default
RETRY_PERIOD = 2.0  # the manager's default: also the sharder's Lease poll
SLACK = 20.0  # a shared 2-core machine running the control plane and four managers
WAIT = 600.0
CONTROLLED = (GVK("apps", "v1", "DaemonSet"), GVK("", "v1", "ConfigMap"))
NAMESPACE_GVK = GVK("", "v1", "Namespace")
CONFIGMAP_GVK = GVK("", "v1", "ConfigMap")
CLASS_NAME = "sharding-clientonly"
FIELD_MANAGER_PREFIX = "fluidpy-"
SHARDER_MANAGER = "fluidpy-sharder"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ShardProcess:
    """One `fluidpy manager --shards` process, logging JSON to a file."""

    def __init__(self, tmp: Path, cluster: LocalCluster, shard_id: str) -> None:
        self.id = shard_id
        self.log_path = tmp / f"{shard_id}.log"
        self.ended: datetime | None = None
        self.health, self.metrics = free_port(), free_port()
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("fluidpy")),
                "manager",
                "--shards",
                f"--shard-id={shard_id}",
                f"--kubeconfig={cluster.kubeconfig}",
                f"--namespace={NAMESPACE}",
                f"--leader-election-namespace={NAMESPACE}",
                "--controllers=dataset,cacheruntime",
                f"--metrics-bind-address=127.0.0.1:{self.metrics}",
                f"--health-probe-bind-address=127.0.0.1:{self.health}",
                "--kube-api-qps=200",
                "--kube-api-burst=400",
                "--resync-period=0",
                "--log-format=json",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def ready(self) -> bool:
        assert self.process.poll() is None, f"shard {self.id} exited: {self.tail()}"
        try:
            url = f"http://127.0.0.1:{self.health}/readyz"
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def metric(self, sample: str) -> float | None:
        url = f"http://127.0.0.1:{self.metrics}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(sample + " "):
                    return float(line.rsplit(" ", 1)[1])
        return None

    def requests(self, method: str, code: str) -> float:
        """rest_client_requests_total of this method and status code, over all hosts."""
        url = f"http://127.0.0.1:{self.metrics}/metrics"
        wanted = (f'code="{code}"', f'method="{method}"')
        with urllib.request.urlopen(url, timeout=5) as response:
            return sum(
                float(line.rsplit(" ", 1)[1])
                for line in response.read().decode().splitlines()
                if line.startswith("rest_client_requests_total{") and all(w in line for w in wanted)
            )

    def records(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text().splitlines()[-20:])

    def kill(self) -> None:
        self.process.kill()
        self.ended = datetime.now(UTC)
        self.process.wait(60)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(60) == 0, self.tail()
        released = [
            r
            for r in self.records()
            if r.get("msg") == "released the lease" and r.get("lease") == f"{RING}-{self.id}"
        ]
        assert released, f"shard {self.id} did not release its Lease: {self.tail()}"
        self.ended = parse_time(released[-1]["timestamp"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(60)
        self._log.close()


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class World:
    """The test namespace's objects, read live."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.client = Client(cluster.connection(), qps=0)

    def create_pairs(self, count: int) -> None:
        for index in range(count):
            name = f"data-{index:03d}"
            self.client.create(
                {
                    "apiVersion": "data.fluid.io/v1alpha1",
                    "kind": "Dataset",
                    "metadata": {"name": name, "namespace": NAMESPACE},
                    "spec": {"mounts": [{"name": "data", "mountPoint": "s3://bench/data"}]},
                }
            )
            self.client.create(
                {
                    "apiVersion": "data.fluid.io/v1alpha1",
                    "kind": "CacheRuntime",
                    "metadata": {"name": name, "namespace": NAMESPACE},
                    "spec": {"runtimeClassName": CLASS_NAME},
                }
            )

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        """Every labelled or unlabelled object of the namespace by group (namespace/name)."""
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for gvk in (DATASET_GVK, RUNTIME_GVK):
            for obj in self.client.list(gvk, NAMESPACE):
                found[f"{NAMESPACE}/{obj['metadata']['name']}"].append(obj)
        for gvk in CONTROLLED:
            for obj in self.client.list(gvk, NAMESPACE):
                owners = [
                    ref["name"]
                    for ref in obj["metadata"].get("ownerReferences") or ()
                    if ref.get("controller") and ref.get("kind") == "CacheRuntime"
                ]
                if owners:
                    found[f"{NAMESPACE}/{owners[0]}"].append(obj)
        return found

    def misplaced(self, shards: list[str]) -> list[str]:
        """Objects not (yet) labelled, undrained, for the live shard their group's Dataset is
        on; [] when all are, every runtime has made its controlled objects and every Dataset
        is Bound."""
        wrong: list[str] = []
        groups = self.groups()
        if len(groups) != RUNTIMES:
            return [f"{len(groups)} groups of {RUNTIMES}"]
        for group, objects in groups.items():
            want = next(shard_of(o) for o in objects if o["kind"] == "Dataset")
            if want not in shards:
                wrong.append(f"{group} on {want}, not a live shard")
            kinds = Counter(obj["kind"] for obj in objects)
            if kinds["DaemonSet"] != 1 or kinds["ConfigMap"] < 1:
                wrong.append(f"{group}: controlled objects not made yet ({dict(kinds)})")
            for obj in objects:
                labels = obj["metadata"].get("labels") or {}
                where = f"{obj['kind']} {group}"
                if shard_of(obj) != want or drain_label(RING) in labels:
                    wrong.append(f"{where} on {labels.get(shard_label(RING))}, wants {want}")
                if obj["kind"] == "Dataset" and (obj.get("status") or {}).get("phase") != "Bound":
                    wrong.append(f"{where} not Bound")
        return wrong

    def settled(self, shards: list[str]) -> bool:
        self.last_misplaced = self.misplaced(shards)
        return not self.last_misplaced

    def placement(self) -> dict[str, str | None]:
        """Group -> the shard its Dataset is labelled for."""
        return {
            f"{NAMESPACE}/{d['metadata']['name']}": shard_of(d)
            for d in self.client.list(DATASET_GVK, NAMESPACE)
        }

    def spread(self) -> Counter[str | None]:
        return Counter(self.placement().values())

    def on_shard(self, shard: str) -> int:
        return sum(
            1
            for objects in self.groups().values()
            for obj in objects
            if (obj["metadata"].get("labels") or {}).get(shard_label(RING)) == shard
        )

    def managed_fields(self) -> dict[str, list[tuple[str, datetime, str]]]:
        """Per group: (shard, time of its last write, object) of every shard's managedFields
        entry on the group's objects."""
        found: dict[str, list[tuple[str, datetime, str]]] = defaultdict(list)
        for group, objects in self.groups().items():
            for obj in objects:
                for entry in obj["metadata"].get("managedFields") or ():
                    manager = entry.get("manager", "")
                    if manager.startswith(FIELD_MANAGER_PREFIX) and manager != SHARDER_MANAGER:
                        shard = manager[len(FIELD_MANAGER_PREFIX) :]
                        where = f"{obj['kind']} {group} ({entry.get('operation')})"
                        found[group].append((shard, parse_time(entry["time"]), where))
        return found


def shard_of(obj: dict[str, Any]) -> str | None:
    return (obj["metadata"].get("labels") or {}).get(shard_label(RING))


def assert_within_20_percent_of_even(spread: Counter[str | None], members: list[str]) -> None:
    even = RUNTIMES / len(members)
    assert set(spread) == set(members), spread
    assert all(abs(count - even) <= 0.2 * even for count in spread.values()), spread


@pytest.fixture
def world(cluster: LocalCluster, crds: list[str]) -> Iterator[World]:
    world = World(cluster)
    if world.client.get(NAMESPACE_GVK, NAMESPACE) is not None:  # a previous run's, going away
        wait_for(
            lambda: world.client.get(NAMESPACE_GVK, NAMESPACE) is None,
            "the previous run's namespace to go",
            timeout=WAIT,
        )
    world.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    world.client.apply(
        {
            "apiVersion": "data.fluid.io/v1alpha1",
            "kind": "CacheRuntimeClass",
            "metadata": {"name": CLASS_NAME},
            "fileSystemType": "fuse.sharding",
            "topology": {
                "client": {
                    "workloadType": {"apiVersion": "apps/v1", "kind": "DaemonSet"},
                    "podTemplateSpec": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "client",
                                    "image": "busybox:1.36",
                                    "securityContext": {"privileged": True},
                                }
                            ]
                        }
                    },
                }
            },
        }
    )
    try:
        yield world
    finally:
        world.client.delete(NAMESPACE_GVK, NAMESPACE)
        world.client.delete(CLASS_GVK, CLASS_NAME)


@pytest.fixture
def shards(tmp_path: Path) -> Iterator[dict[str, ShardProcess]]:
    started: dict[str, ShardProcess] = {}
    yield started
    for process in started.values():
        process.close()
    print(f"\nmanager logs: {tmp_path}")


def start_shards(
    shards: dict[str, ShardProcess], tmp: Path, cluster: LocalCluster, *ids: str
) -> None:
    for shard_id in ids:
        shards[shard_id] = ShardProcess(tmp, cluster, shard_id)
    for shard_id in ids:
        wait_for(shards[shard_id].ready, f"shard {shard_id} ready", timeout=WAIT)


def sharder_sees(shards: dict[str, ShardProcess], members: list[str]) -> bool:
    """Whether the sharder's last membership change left exactly `members` alive."""
    changes = [
        (record["timestamp"], record["shards"])
        for process in shards.values()
        for record in process.records()
        if record.get("msg") == "ring changed; rebalancing"
    ]
    return bool(changes) and sorted(max(changes)[1]) == sorted(members)


def ownership_intervals(
    shards: dict[str, ShardProcess],
) -> dict[str, list[tuple[datetime, datetime, str, str]]]:
    """Per group: (from, to, shard, reconcile id) of every stretch a shard worked on one of its
    objects, from "taking over" to "released" or the shard's end (open: now)."""
    now = datetime.now(UTC)
    intervals: dict[str, list[tuple[datetime, datetime, str, str]]] = defaultdict(list)
    for process in shards.values():
        open_since: dict[tuple[str, str], tuple[datetime, str]] = {}
        for record in process.records():
            if record.get("msg") not in ("taking over", "released"):
                continue
            key = (record["kind"], record["object"])
            at = parse_time(record["timestamp"])
            if record["msg"] == "taking over":
                open_since[key] = (at, record.get("reconcileID", "?"))
            elif record["msg"] == "released" and key in open_since:
                started, reconcile = open_since.pop(key)
                intervals[key[1]].append((started, at, process.id, reconcile))
        for (_, group), (started, reconcile) in open_since.items():
            intervals[group].append((started, process.ended or now, process.id, reconcile))
    return intervals


def overlaps(shards: dict[str, ShardProcess]) -> list[str]:
    found = []
    for group, spans in ownership_intervals(shards).items():
        for i, (start_a, end_a, shard_a, id_a) in enumerate(spans):
            for start_b, end_b, shard_b, id_b in spans[i + 1 :]:
                if shard_a != shard_b and start_a < end_b and start_b < end_a:
                    found.append(
                        f"{group}: {shard_a} ({id_a}) {start_a}..{end_a} and "
                        f"{shard_b} ({id_b}) {start_b}..{end_b}"
                    )
    return found


def test_groups_spread_move_on_death_join_and_leave_and_never_have_two_owners(
    tmp_path: Path, cluster: LocalCluster, world: World, shards: dict[str, ShardProcess]
) -> None:
    members = ["shard-a", "shard-b", "shard-c"]
    start_shards(shards, tmp_path, cluster, *members)
    wait_for(lambda: sharder_sees(shards, members), "the sharder to see 3 shards", timeout=WAIT)

    # 1. Spread and Bound.
    started = time.monotonic()
    world.create_pairs(RUNTIMES)
    wait_for(lambda: world.settled(members), "placement", timeout=WAIT)
    spread = world.spread()
    print(f"\n{RUNTIMES} groups on 3 shards: {dict(spread)}, in {time.monotonic() - started:.1f} s")
    assert_within_20_percent_of_even(spread, members)
    assert_absent_objects_read_from_the_cache(shards, members)

    # 2. kill -9 a shard that is not the sharder: its groups move at once when its Lease expires.
    victim = next(shard for shard in members if shard != holder(world, "fluidpy.data.fluid.io"))
    kill_and_converge(world, shards, victim)
    members.remove(victim)

    # 3. A fourth shard joins: groups move to it through drains.
    drains_before = count_events(shards, "draining")
    before_join = world.placement()
    start_shards(shards, tmp_path, cluster, "shard-d")
    members.append("shard-d")
    wait_for(lambda: sharder_sees(shards, members), "the sharder to see shard-d", timeout=WAIT)
    wait_for(lambda: world.settled(members), "placement after the join", timeout=WAIT)
    after_join = world.placement()
    assert {after_join[g] for g, s in before_join.items() if after_join[g] != s} == {"shard-d"}
    assert_within_20_percent_of_even(world.spread(), members)
    moved_to_d = world.on_shard("shard-d")
    drained = count_events(shards, "draining") - drains_before
    released = count_events(shards, "released")
    print(f"shard-d joined: {moved_to_d} objects moved to it, {drained} drains")
    assert moved_to_d > 0
    main_objects_on_d = sum(
        1
        for objects in world.groups().values()
        for obj in objects
        if obj["kind"] in ("Dataset", "CacheRuntime")
        and (obj["metadata"].get("labels") or {}).get(shard_label(RING)) == "shard-d"
    )
    assert drained >= main_objects_on_d, "every main object that moved to shard-d was drained"
    assert released >= main_objects_on_d

    # 4. All but one stop cleanly: released Leases mean the last one takes everything at once.
    last = "shard-d"
    for shard in [shard for shard in members if shard != last]:
        shards[shard].stop()
    members = [last]
    wait_for(lambda: world.settled(members), "placement on the last shard", timeout=WAIT)
    survivor = shards[last]
    owned = f'fluidpy_shard_objects{{ring="{RING}",shard="{last}"}}'
    wait_for(
        lambda: survivor.metric(owned) == 2 * RUNTIMES,
        "the sharder's count of shard-d's Datasets and runtimes",
        timeout=WAIT,
    )
    assert survivor.metric(f'fluidpy_ring_shards{{ring="{RING}"}}') == 1

    assert_no_group_had_two_owners(world, shards)


def kill_and_converge(world: World, shards: dict[str, ShardProcess], victim: str) -> None:
    """kill -9 `victim`: its groups move within the Lease duration plus the sharder's poll (and
    slack for the machine), the others stay, and everything converges."""
    had = world.on_shard(victim)
    before_kill = world.placement()
    shards[victim].kill()
    killed = time.monotonic()
    members = [shard for shard in shards if shard != victim]
    wait_for(lambda: world.on_shard(victim) == 0, f"{victim}'s objects to move", timeout=WAIT)
    moved_after = time.monotonic() - killed
    wait_for(lambda: world.settled(members), "placement after the kill", timeout=WAIT)
    print(
        f"kill -9 {victim} ({had} objects): all reassigned after {moved_after:.1f} s "
        f"(Lease {LEASE_DURATION:g} s), converged after {time.monotonic() - killed:.1f} s"
    )
    assert moved_after <= LEASE_DURATION + 2 * RETRY_PERIOD + SLACK
    after_kill = world.placement()
    assert [g for g, s in before_kill.items() if s != victim and after_kill[g] != s] == []
    assert_within_20_percent_of_even(world.spread(), members)


def assert_absent_objects_read_from_the_cache(
    shards: dict[str, ShardProcess], members: list[str]
) -> None:
    """A shard asks the API server about an object its filtered cache lacks only right before
    creating it (engines.base.ownership); every other absent read is a cache hit."""
    for shard in members:
        absent, created = (
            shards[shard].requests("GET", "404"),
            shards[shard].requests("PATCH", "201"),
        )
        print(f"{shard}: {absent:g} GETs answered 404, {created:g} objects created by apply")
        assert absent <= created + 5, "only the lookup before a create asks the API server"


def assert_no_group_had_two_owners(world: World, shards: dict[str, ShardProcess]) -> None:
    """From the managers' logs, then from every object's managedFields."""
    intervals = ownership_intervals(shards)
    moved = [g for g, spans in intervals.items() if len({shard for *_, shard, _ in spans}) > 1]
    assert len(moved) == RUNTIMES, "every group moved at least once (to shard-d at the end)"
    assert overlaps(shards) == []
    writes = world.managed_fields()
    assert writes_outside_ownership(writes, intervals) == []
    written_by_several = [g for g, w in writes.items() if len({shard for shard, *_ in w}) > 1]
    print(
        f"managedFields: {sum(map(len, writes.values()))} shard entries checked, "
        f"{len(written_by_several)} groups written by more than one shard (one after another), "
        f"by shard: {dict(Counter(shard for w in writes.values() for shard, *_ in w))}"
    )
    # Not vacuous: every group moved (above), and the entries checked against the stretches
    # are several shards' (how many groups still carry two shards' entries depends on which
    # fields the last owner happened to rewrite, so that count is printed, not required).
    assert len({shard for w in writes.values() for shard, *_ in w}) > 1, "one shard's writes"


def writes_outside_ownership(
    writes: dict[str, list[tuple[str, datetime, str]]],
    intervals: dict[str, list[tuple[datetime, datetime, str, str]]],
) -> list[str]:
    """Shard writes (managedFields times, whole seconds) outside that shard's stretches."""
    second = timedelta(seconds=1)
    return [
        f"{where}: written by {shard} at {at}, outside its stretches "
        f"{[(str(a), str(b)) for a, b, s, _ in intervals.get(group, ()) if s == shard]}"
        for group, entries in writes.items()
        for shard, at, where in entries
        if not any(
            s == shard and start < at + second and at <= end
            for start, end, s, _ in intervals.get(group, ())
        )
    ]


def count_events(shards: dict[str, ShardProcess], event: str) -> int:
    return sum(
        1
        for process in shards.values()
        for record in process.records()
        if record.get("msg") == event and record.get("logger") == "fluidpy.sharding"
    )


def holder(world: World, lease: str) -> str:
    obj = world.client.get(GVK("coordination.k8s.io", "v1", "Lease"), lease, NAMESPACE)
    assert obj is not None, f"no Lease {lease}"
    return str(obj["spec"].get("holderIdentity") or "")


def test_a_shard_takes_over_the_fields_the_shard_before_applied(
    connection: Any, namespace: str
) -> None:
    """After a move the new shard's rendering may drop a field the shard before applied: it
    goes at the new shard's first apply."""
    ring = RingConfig("it", main_kinds=(RUNTIME_GVK,), controlled_kinds=(CONFIGMAP_GVK,))
    before = ShardClient(connection, ring=ring, shard="before")
    after = ShardClient(connection, ring=ring, shard="after")

    def config(**data: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "rendered", "namespace": namespace},
            "data": data,
        }

    before.apply(config(kept="1", dropped="1"))
    assert after.apply(config(kept="1"))["data"] == {"kept": "1"}
    live = Client(connection).get(CONFIGMAP_GVK, "rendered", namespace)
    assert live is not None
    managers = {(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]}
    assert ("fluidpy-after", "Apply") in managers
    assert ("fluidpy-before", "Apply") not in managers
    before.apply(config(kept="1"))
    after.apply(config(kept="1"))  # gains no field: no second apply
    live = Client(connection).get(CONFIGMAP_GVK, "rendered", namespace)
    assert live is not None
    assert [(m["manager"], "time" in m) for m in live["metadata"]["managedFields"]] == [
        ("fluidpy-after", True)
    ], "the merged entry keeps a time, which the ownership check reads"
    assert after.apply(config(kept="2"))["data"] == {"kept": "2"}
