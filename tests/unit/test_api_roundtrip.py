"""dict -> model -> dict is lossless for every example we must accept.

The examples: the seed's CacheRuntimeClass, Dataset and CacheRuntime (our design document) and
every Dataset, AlluxioRuntime and JindoRuntime in upstream Fluid's manifests, copied
under tests/fixtures with their sources (tests/fixtures/README.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fluidpy.api.v1alpha1 import API_VERSION, KINDS, CacheRuntime, CacheRuntimeClass, Dataset

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED = FIXTURES / "seeds" / "000_44288d8b0261317a.txt"
SAMPLES = FIXTURES / "upstream-fluid"
MODELS = {kind.KIND: kind for kind in KINDS}


def seed_examples() -> list[dict[str, Any]]:
    """The data.fluid.io objects of the seed's ```yaml blocks (one block is a tree, not YAML)."""
    docs: list[dict[str, Any]] = []
    for block in re.findall(r"```yaml\n(.*?)```", SEED.read_text(), re.S):
        try:
            loaded = list(yaml.safe_load_all(block))
        except yaml.YAMLError:
            continue
        docs += [d for d in loaded if isinstance(d, dict) and d.get("apiVersion") == API_VERSION]
    return docs


def upstream_samples() -> list[tuple[str, dict[str, Any]]]:
    """(file, object) for every object of our kinds in upstream's manifests; Pods etc. skipped."""
    return [
        (path.name, doc)
        for path in sorted(SAMPLES.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if isinstance(doc, dict) and doc.get("kind") in MODELS
    ]


def test_the_seed_holds_a_class_a_dataset_and_a_runtime() -> None:
    assert [d["kind"] for d in seed_examples()] == ["CacheRuntimeClass", "Dataset", "CacheRuntime"]


def test_upstream_samples_cover_datasets_alluxio_jindo_and_dataloads() -> None:
    kinds = {doc["kind"] for _, doc in upstream_samples()}
    assert kinds == {"Dataset", "AlluxioRuntime", "JindoRuntime", "DataLoad"}
    assert len(upstream_samples()) >= 25


@pytest.mark.parametrize("obj", seed_examples(), ids=lambda d: d["kind"])
def test_seed_examples_round_trip_losslessly(obj: dict[str, Any]) -> None:
    assert MODELS[obj["kind"]].from_dict(obj).to_dict() == obj


@pytest.mark.parametrize(
    ("source", "obj"), upstream_samples(), ids=lambda v: v if isinstance(v, str) else v["kind"]
)
def test_upstream_samples_round_trip_losslessly(source: str, obj: dict[str, Any]) -> None:
    assert MODELS[obj["kind"]].from_dict(obj).to_dict() == obj


def test_seed_examples_read_into_typed_fields() -> None:
    cls, ds, rt = (MODELS[d["kind"]].from_dict(d) for d in seed_examples())
    assert isinstance(cls, CacheRuntimeClass)
    assert isinstance(ds, Dataset)
    assert isinstance(rt, CacheRuntime)

    master = cls.topology.master
    assert master is not None
    assert master.workload_type.kind == "StatefulSet"
    assert master.service is not None and master.service.headless is not None
    assert master.dependencies is not None and master.dependencies.encrypt_option is not None
    assert master.pod_template_spec["spec"]["containers"][0]["name"] == "master"
    worker = cls.topology.worker
    assert worker is not None and worker.dependencies is not None
    assert worker.dependencies.encrypt_option is None

    assert ds.spec.mounts is not None
    secrets = [
        o.value_from.secret_key_ref.name
        for o in ds.spec.mounts[0].encrypt_options or []
        if o.value_from and o.value_from.secret_key_ref
    ]
    assert secrets == ["jfs-secret"] * 3

    assert rt.spec.runtime_class_name == "demofs"
    assert rt.spec.master is not None and rt.spec.master.replicas == 2
    assert rt.spec.worker is not None and rt.spec.worker.tiered_store is not None
    level = (rt.spec.worker.tiered_store.levels or [])[0]
    assert (level.quota, level.low, level.high, level.path) == ("40Gi", "0.5", "0.8", "/cache-data")
    assert level.medium.empty_dir is not None and level.medium.empty_dir.medium == "Memory"
    assert rt.spec.client is not None
    assert rt.spec.client.volume_mounts == [{"name": "demo", "mountPath": "/mnt"}]
    assert rt.spec.volumes == [{"name": "demo", "persistentVolumeClaim": {"claimName": "test"}}]
