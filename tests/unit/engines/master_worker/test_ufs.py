"""A Dataset's mounts as cache systems see them."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.api.v1alpha1.common import Mount
from fluidpy.api.v1alpha1.dataset import DatasetSpec
from fluidpy.engines.base.errors import ValidationError
from fluidpy.engines.base.mounts import mount_path
from fluidpy.engines.masterworker.ufs import (
    dataset_mounts,
    is_native,
    local_directory,
    merged_encrypt_options,
    merged_options,
    ufs_changes,
)


def mount(**fields: Any) -> Mount:
    return Mount.model_validate(fields)


def test_a_mount_path_is_its_absolute_path_or_slash_name() -> None:
    assert mount_path(mount(mountPoint="s3://b/x", name="x")) == "/x"
    assert mount_path(mount(mountPoint="s3://b/x", name="x", path="/data/x/")) == "/data/x"
    assert mount_path(mount(mountPoint="s3://b/x", path="/")) == "/"
    assert mount_path(mount(mountPoint="https://mirror/spark/")) == "/spark"


def test_local_and_pvc_mounts_are_native_and_appear_under_the_ufs_root() -> None:
    native = mount(mountPoint="pvc://claim/sub", name="data")

    assert is_native(native)
    assert not is_native(mount(mountPoint="oss://bucket/"))
    assert local_directory(native) == "/underFSStorage/data"


def test_mount_options_overlay_the_shared_ones() -> None:
    spec = DatasetSpec.model_validate(
        {
            "sharedOptions": {"a": "shared", "b": "shared"},
            "mounts": [{"mountPoint": "s3://b/", "name": "b", "options": {"b": "own"}}],
        }
    )

    assert merged_options(spec, spec.mounts[0]) == {"a": "shared", "b": "own"}  # type: ignore[index]


def test_an_encrypt_option_given_twice_is_invalid() -> None:
    secret = {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    spec = DatasetSpec.model_validate(
        {
            "sharedEncryptOptions": [{"name": "key", **secret}],
            "mounts": [
                {
                    "mountPoint": "s3://b/",
                    "name": "b",
                    "encryptOptions": [{"name": "key", **secret}],
                }
            ],
        }
    )

    with pytest.raises(ValidationError, match="'key' is given more than once"):
        merged_encrypt_options(spec, spec.mounts[0])  # type: ignore[index]


def test_a_dataset_mount_of_another_dataset_is_invalid_for_a_cache_engine() -> None:
    spec = DatasetSpec.model_validate({"mounts": [{"mountPoint": "dataset://ns/other"}]})

    with pytest.raises(ValidationError, match="only the thin runtime"):
        dataset_mounts(spec)


def test_ufs_changes_compare_cli_mount_paths_only() -> None:
    wanted = [mount(mountPoint="s3://a/", name="a"), mount(mountPoint="s3://c/", name="c")]
    applied = [
        mount(mountPoint="s3://a/", name="a"),
        mount(mountPoint="s3://b/", name="b"),
        mount(mountPoint="local:///data", name="local"),
    ]

    changes = ufs_changes(wanted, applied)

    assert (changes.to_add, changes.to_remove) == (["/c"], ["/b"])
