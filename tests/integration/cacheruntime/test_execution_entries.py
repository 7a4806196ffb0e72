"""A class's execution entries run through the API server's pod exec: mountUFS gates binding and
follows the Dataset's mounts, reportSummary fills the columns of `kubectl get dataset`.

The pods run on kwok's fake nodes, where exec runs a host command (fluidpy.testing.kwok_exec):
the class's entries call `fake-cache` (tests/exec-scripts), which plays the cache system's CLI
from a state directory the test owns. So the real path is exercised: the engine's
KubernetesExec, the API server's exec upgrade and stream, the exit status and stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fluidpy.engines.base.status import now
from fluidpy.engines.cacheruntime.naming import CLASS_GVK, DATASET_GVK, POD, RUNTIME_GVK

pytestmark = pytest.mark.integration

NAME = "exec-demo"
PATHS = ("/data", "/archive/logs")
"""Where the sample Dataset's mounts appear: /<name>, and the second one's absolute path."""


class FakeCache:
    """The state directory `fake-cache` reads (tests/exec-scripts/fake-cache says how)."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.offer(*PATHS)
        self.figures("1.5GiB", "37.5%", "4GiB", "88.0%")

    def offer(self, *paths: str) -> None:
        (self.state / "ufs").write_text("".join(f"{path}\n" for path in paths))

    def figures(self, *values: str) -> None:
        (self.state / "figures").write_text("".join(f"{value}\n" for value in values))

    def break_with(self, message: str) -> None:
        (self.state / "broken").write_text(message)

    def repair(self) -> None:
        (self.state / "broken").unlink()

    def calls(self) -> list[str]:
        calls = self.state / "calls"
        return calls.read_text().split() if calls.exists() else []

    def entries(self) -> dict[str, Any]:
        return {
            "mountUFS": {"command": ["fake-cache", "mount-ufs", str(self.state)]},
            "reportSummary": {"command": ["fake-cache", "report-summary", str(self.state)]},
        }


@pytest.fixture
def fake_cache(tmp_path: Path) -> FakeCache:
    return FakeCache(tmp_path)


def create(kube: Any, fake_cache: FakeCache) -> dict[str, dict[str, Any]]:
    """The execution-entries sample, its class's entries calling the fake cache."""
    objects: dict[str, dict[str, Any]] = kube.sample("execution-entries.yaml", class_suffix=True)
    objects["CacheRuntimeClass"]["topology"]["master"]["executionEntries"] = fake_cache.entries()
    kube.create(objects["CacheRuntimeClass"], objects["Dataset"], objects["CacheRuntime"])
    return objects


def status(kube: Any, gvk: Any = DATASET_GVK) -> dict[str, Any]:
    found: dict[str, Any] = (kube.get(gvk, NAME) or {}).get("status") or {}
    return found


def condition(found: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in found.get("conditions") or [] if c["type"] == type_), None)


def test_a_failing_mount_ufs_is_reported_and_the_dataset_waits_for_it(
    kube: Any, fake_cache: FakeCache
) -> None:
    fake_cache.break_with("cannot reach s3://bucket: connection refused")
    create(kube, fake_cache)

    event = kube.wait_event(NAME, "RuntimeMountUfsFailed")
    assert event["type"] == "Warning"
    ready = kube.wait_condition(NAME, "RuntimeMountUfsFailed")
    assert "exited with code 1" in ready["message"]
    assert "cannot reach s3://bucket: connection refused" in ready["message"]
    assert "topology.master.executionEntries.mountUFS" in ready["message"]
    assert status(kube).get("phase") != "Bound" and not status(kube).get("runtimes")

    fake_cache.repair()

    dataset = kube.wait_bound(NAME)
    assert dataset["status"]["mounts"] == dataset["spec"]["mounts"]
    assert status(kube, RUNTIME_GVK)["mountTime"]
    assert fake_cache.calls().count("mount-ufs") >= 2


def test_the_cache_must_mount_every_path_of_the_dataset_before_binding(
    kube: Any, fake_cache: FakeCache
) -> None:
    fake_cache.offer("/data")
    create(kube, fake_cache)

    ready = kube.wait_condition(NAME, "RuntimeMountUfsPending")
    assert "not mounted: /archive/logs" in ready["message"]

    fake_cache.offer(*PATHS)
    kube.wait_bound(NAME)


def test_kubectl_get_dataset_shows_the_reported_figures_as_they_move(
    kube: Any, fake_cache: FakeCache
) -> None:
    create(kube, fake_cache)
    kube.wait_bound(NAME)

    def with_figures() -> Any:
        datasets = kube.table("datasets")
        return datasets if datasets.cell(NAME, "Cached") else None

    datasets = kube.eventually(with_figures, "the Cached column")
    assert datasets.cell(NAME, "Cached") == "1.5GiB"
    assert datasets.cell(NAME, "Cache Capacity") == "4GiB"
    assert datasets.cell(NAME, "Cached Percentage") == "37.5%"
    assert datasets.cell(NAME, "Cache Figures") == "ReportedByRuntime"
    assert status(kube)["cacheStates"]["cacheHitRatio"] == "88.0%"

    fake_cache.figures("3GiB", "75.0%", "4GiB", "91.0%")

    kube.eventually(
        lambda: kube.table("datasets").cell(NAME, "Cached") == "3GiB",
        "the Cached column to show the new figure",
    )


def test_a_mount_change_goes_updating_then_bound_with_the_new_mounts(
    kube: Any, fake_cache: FakeCache
) -> None:
    objects = create(kube, fake_cache)
    kube.wait_bound(NAME)
    mounted_at = status(kube, RUNTIME_GVK)["mountTime"]
    mounts = [*objects["Dataset"]["spec"]["mounts"], {"name": "new", "mountPoint": "s3://b/new"}]

    kube.patch(DATASET_GVK, NAME, {"spec": {"mounts": mounts}})

    def updating() -> dict[str, Any] | None:
        found = status(kube)
        return found if found.get("phase") == "Updating" else None

    found = kube.eventually(updating, "the Dataset Updating")
    reason = condition(found, "Updating")
    assert reason is not None and reason["reason"] == "DatasetUpdating"
    assert "/new" in reason["message"]
    ready = kube.wait_condition(NAME, "RuntimeMountUfsPending")  # the cache has not got it yet
    assert "not mounted: /new" in ready["message"]

    # status.mountTime counts seconds: let one pass, so that a new one shows.
    kube.eventually(lambda: now() > mounted_at, "the clock to pass the first mountTime")
    fake_cache.offer(*PATHS, "/new")

    dataset = kube.wait_bound(NAME)
    assert dataset["status"]["mounts"] == mounts
    assert condition(dataset["status"], "Updating") is None
    ready_condition = condition(dataset["status"], "Ready")
    assert ready_condition is not None and ready_condition["status"] == "True"
    assert status(kube, RUNTIME_GVK)["mountTime"] > mounted_at


def test_a_restarted_master_is_mounted_again(kube: Any, fake_cache: FakeCache) -> None:
    create(kube, fake_cache)
    kube.wait_bound(NAME)
    mounted_at = status(kube, RUNTIME_GVK)["mountTime"]
    runs = fake_cache.calls().count("mount-ufs")

    kube.delete(POD, f"{NAME}-master-0")  # its StatefulSet starts a new one

    kube.eventually(
        lambda: (
            fake_cache.calls().count("mount-ufs") > runs and status(kube).get("phase") == "Bound"
        ),
        "the new master mounted and the Dataset Bound",
    )
    assert status(kube, RUNTIME_GVK)["mountTime"] >= mounted_at  # seconds: maybe the same


def test_the_sample_class_is_stored_as_written(kube: Any) -> None:
    objects = kube.sample("execution-entries.yaml", class_suffix=True)
    written = objects["CacheRuntimeClass"]

    kube.create(written)

    stored = kube.must(CLASS_GVK, written["metadata"]["name"])
    entries = stored["topology"]["master"]["executionEntries"]
    assert entries == written["topology"]["master"]["executionEntries"]  # nothing pruned
    assert entries["mountUFS"]["timeout"] == 60
