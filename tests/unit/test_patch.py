"""merge_patch computes the smallest RFC 7386 patch between two objects."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fluidpy.patch import merge_patch


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386's reference algorithm, to check patches against."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def test_equal_objects_need_no_patch() -> None:
    assert merge_patch({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2]}}) == {}


def test_only_changed_leaves_are_sent_and_removed_keys_become_null() -> None:
    old = {"phase": "NotBound", "conditions": [], "cacheStates": {"cached": "0B", "x": "1"}}
    new = {"phase": "Bound", "conditions": [], "cacheStates": {"cached": "1GiB"}}

    assert merge_patch(old, new) == {"phase": "Bound", "cacheStates": {"cached": "1GiB", "x": None}}


def test_lists_are_replaced_whole() -> None:
    assert merge_patch({"runtimes": [{"name": "a"}]}, {"runtimes": [{"name": "b"}]}) == {
        "runtimes": [{"name": "b"}]
    }


json_leaf = st.one_of(st.booleans(), st.integers(), st.text(max_size=3))
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=10,
)
json_object = st.dictionaries(st.text(max_size=2), json_value, max_size=4)


@given(json_object, json_object)
def test_applying_the_patch_to_the_old_object_gives_the_new_one(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    assert apply_merge_patch(old, merge_patch(old, new)) == new
