"""The data.fluid.io/v1alpha1 models: wire format, defaults and helpers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from fluidpy.api.v1alpha1 import (
    ACCELERATE_CATEGORY,
    API_VERSION,
    KINDS,
    AlluxioRuntime,
    CacheRuntime,
    CacheRuntimeClass,
    CacheRuntimeReplicatedComponent,
    CacheRuntimeSpec,
    Dataset,
    DatasetPhase,
    DatasetRuntime,
    EncryptOption,
    Level,
    MediumType,
    Mount,
    ObjectMeta,
    PlacementMode,
    RuntimePhase,
)
from fluidpy.client import GVK


def dataset(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Dataset",
        "metadata": {"name": "demo", "namespace": "default"},
        "spec": spec,
    }


def test_python_attributes_are_snake_case_and_the_wire_is_camel_case() -> None:
    ds = Dataset.from_dict(
        dataset(mounts=[{"mountPoint": "s3://bucket", "readOnly": True}], sharedOptions={"a": "b"})
    )

    assert ds.spec.mounts is not None
    assert ds.spec.mounts[0].mount_point == "s3://bucket"
    assert ds.spec.mounts[0].read_only is True
    assert ds.spec.shared_options == {"a": "b"}
    assert ds.to_dict()["spec"] == {
        "mounts": [{"mountPoint": "s3://bucket", "readOnly": True}],
        "sharedOptions": {"a": "b"},
    }


def test_models_accept_snake_case_names_from_python_code() -> None:
    mount = Mount(mount_point="s3://bucket", encrypt_options=[EncryptOption(name="k")])

    assert mount.model_dump(mode="json") == {
        "mountPoint": "s3://bucket",
        "encryptOptions": [{"name": "k"}],
    }


def test_unknown_fields_are_kept_at_every_level() -> None:
    obj = dataset(mounts=[{"mountPoint": "s3://bucket", "futureMountField": {"x": [1, None]}}])
    obj["spec"]["futureSpecField"] = "kept"
    obj["status"] = {"conditions": [], "futureStatus": {"deep": True}}
    obj["metadata"]["managedFields"] = [{"manager": "kubectl"}]

    ds = Dataset.from_dict(obj)

    assert ds.to_dict() == obj
    assert ds.spec.model_extra == {"futureSpecField": "kept"}


def test_a_field_written_with_its_default_value_is_written_back() -> None:
    obj = {
        "apiVersion": API_VERSION,
        "kind": "CacheRuntime",
        "metadata": {"name": "demo"},
        "spec": {"runtimeClassName": "demofs", "master": {"replicas": 1}},
    }

    assert CacheRuntime.from_dict(obj).to_dict() == obj


def test_defaults_nobody_set_are_left_to_the_api_server() -> None:
    rt = CacheRuntime(
        metadata=ObjectMeta(name="demo"),
        spec=CacheRuntimeSpec(
            runtime_class_name="demofs", master=CacheRuntimeReplicatedComponent()
        ),
    )

    assert rt.spec.master is not None
    assert rt.spec.master.replicas == 1
    assert rt.to_dict() == {
        "apiVersion": API_VERSION,
        "kind": "CacheRuntime",
        "metadata": {"name": "demo"},
        "spec": {"runtimeClassName": "demofs", "master": {}},
    }


def test_changes_made_in_place_to_a_default_spec_or_status_are_written() -> None:
    ds = Dataset(metadata=ObjectMeta(name="demo"))
    ds.spec.mounts = [Mount(mount_point="s3://bucket")]
    ds.status.phase = DatasetPhase.NOT_BOUND
    ds.status.conditions = []

    assert ds.to_dict()["spec"] == {"mounts": [{"mountPoint": "s3://bucket"}]}
    assert ds.to_dict()["status"] == {"phase": "NotBound", "conditions": []}


def test_none_means_absent_and_is_never_written() -> None:
    ds = Dataset(metadata=ObjectMeta(name="demo"))
    ds.status.phase = None

    assert "status" not in ds.to_dict()
    assert ds.to_dict()["metadata"] == {"name": "demo"}


def test_api_version_and_kind_are_always_written() -> None:
    for kind in KINDS:
        fields: dict[str, Any] = {"metadata": {"name": "x"}}
        if kind is CacheRuntime:
            fields["spec"] = {"runtime_class_name": "c"}
        if kind is CacheRuntimeClass:
            fields |= {"file_system_type": "fs", "topology": {}}
        data = kind.model_validate(fields).to_dict()
        assert (data["apiVersion"], data["kind"]) == (API_VERSION, kind.KIND)


def test_from_dict_refuses_an_object_of_another_kind() -> None:
    with pytest.raises(ValidationError, match="kind must be Dataset"):
        Dataset.from_dict({"apiVersion": API_VERSION, "kind": "AlluxioRuntime", "metadata": {}})


def test_from_dict_refuses_another_api_version() -> None:
    with pytest.raises(ValidationError, match=r"apiVersion must be data\.fluid\.io/v1alpha1"):
        Dataset.from_dict({"apiVersion": "data.fluid.io/v1beta1", "kind": "Dataset"})


def test_cacheruntime_replicas_can_not_be_negative() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        CacheRuntimeReplicatedComponent(replicas=-1)


def test_cacheruntime_needs_a_runtime_class_name() -> None:
    with pytest.raises(ValidationError, match="runtimeClassName"):
        CacheRuntime.from_dict({"apiVersion": API_VERSION, "kind": "CacheRuntime", "spec": {}})


def test_quantities_keep_the_type_they_were_written_with() -> None:
    rt = AlluxioRuntime.from_dict(
        {
            "apiVersion": API_VERSION,
            "kind": "AlluxioRuntime",
            "spec": {
                "tieredstore": {
                    "levels": [
                        {"mediumtype": "MEM", "quota": "2Gi"},
                        {"mediumtype": "SSD", "quota": 1024},
                    ]
                }
            },
        }
    )

    assert rt.spec.tieredstore is not None
    levels = rt.spec.tieredstore.levels or []
    assert [level.quota for level in levels] == ["2Gi", 1024]
    assert levels[0].mediumtype == MediumType.MEM == "MEM"


def test_an_unknown_medium_is_refused() -> None:
    with pytest.raises(ValidationError, match="mediumtype"):
        Level.model_validate({"mediumtype": "NVME"})


def test_enum_fields_compare_equal_to_their_wire_strings() -> None:
    rt = AlluxioRuntime.from_dict(
        {"apiVersion": API_VERSION, "kind": "AlluxioRuntime", "status": {"masterPhase": "Ready"}}
    )

    assert rt.status.master_phase == "Ready"
    assert rt.status.master_phase is RuntimePhase.READY


def test_the_kind_classes_carry_the_crd_names_controllers_need() -> None:
    facts = {
        kind.KIND: (kind.PLURAL, kind.SHORT_NAMES, kind.NAMESPACED, kind.crd_name())
        for kind in KINDS
    }
    assert [kind.gvk() for kind in KINDS] == [
        GVK("data.fluid.io", "v1alpha1", kind)
        for kind in (
            "Dataset",
            "CacheRuntimeClass",
            "CacheRuntime",
            "AlluxioRuntime",
            "JindoRuntime",
            "DataLoad",
        )
    ]

    assert facts == {
        "Dataset": ("datasets", ("dataset",), True, "datasets.data.fluid.io"),
        "CacheRuntimeClass": (
            "cacheruntimeclasses",
            (),
            False,
            "cacheruntimeclasses.data.fluid.io",
        ),
        "CacheRuntime": ("cacheruntimes", ("cache",), True, "cacheruntimes.data.fluid.io"),
        "AlluxioRuntime": ("alluxioruntimes", ("alluxio",), True, "alluxioruntimes.data.fluid.io"),
        "JindoRuntime": ("jindoruntimes", ("jindo",), True, "jindoruntimes.data.fluid.io"),
        "DataLoad": ("dataloads", ("load",), True, "dataloads.data.fluid.io"),
    }


def bound(*runtimes: DatasetRuntime) -> Dataset:
    ds = Dataset(metadata=ObjectMeta(name="demo", namespace="ns"))
    ds.status.runtimes = list(runtimes)
    return ds


def test_a_dataset_without_runtimes_can_be_bound_by_any_runtime() -> None:
    assert bound().can_be_bound("demo", "ns", ACCELERATE_CATEGORY)


def test_a_dataset_can_be_bound_again_by_the_runtime_already_bound() -> None:
    ds = bound(DatasetRuntime(name="demo", namespace="ns", category=ACCELERATE_CATEGORY))

    assert ds.can_be_bound("demo", "ns", ACCELERATE_CATEGORY)
    assert not ds.can_be_bound("other", "ns", ACCELERATE_CATEGORY)


def test_placement_defaults_to_exclusive() -> None:
    ds = Dataset()
    assert ds.is_exclusive()
    ds.spec.placement = PlacementMode.SHARED
    assert not ds.is_exclusive()
