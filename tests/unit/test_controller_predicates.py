"""Predicates decide which watch events become reconciles."""

from __future__ import annotations

from typing import Any

import pytest

from fluidpy.controller import (
    And,
    AnnotationsChanged,
    GenerationChanged,
    LabelsChanged,
    LabelSelectorPredicate,
    Not,
    ObjectPredicate,
    Or,
    Predicate,
    ResourceVersionChanged,
)


def obj(
    generation: int = 1,
    rv: str = "1",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": "x",
        "namespace": "ns",
        "generation": generation,
        "resourceVersion": rv,
    }
    if labels is not None:
        meta["labels"] = labels
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def test_generation_changed_passes_spec_changes_only() -> None:
    p = GenerationChanged()
    assert p.update(obj(generation=1), obj(generation=2))
    assert not p.update(obj(generation=1, rv="1"), obj(generation=1, rv="2"))


def test_generation_changed_drops_resyncs_but_passes_creates_and_deletes() -> None:
    p = GenerationChanged()
    same = obj()
    assert not p.update(same, same)
    assert p.create(same)
    assert p.delete(same)


def test_resource_version_changed_drops_resyncs() -> None:
    p = ResourceVersionChanged()
    assert not p.update(obj(rv="5"), obj(rv="5"))
    assert p.update(obj(rv="5"), obj(rv="6"))


def test_labels_changed_compares_labels_and_treats_missing_as_empty() -> None:
    p = LabelsChanged()
    assert p.update(obj(labels={"a": "1"}), obj(labels={"a": "2"}))
    assert not p.update(obj(labels={"a": "1"}, rv="1"), obj(labels={"a": "1"}, rv="2"))
    assert not p.update(obj(labels=None), obj(labels={}))


def test_annotations_changed_compares_annotations() -> None:
    p = AnnotationsChanged()
    assert p.update(obj(annotations={}), obj(annotations={"k": "v"}))
    assert not p.update(obj(annotations={"k": "v"}), obj(annotations={"k": "v"}, rv="9"))


def test_label_selector_string_syntax_filters_every_event_type() -> None:
    p = LabelSelectorPredicate("app=cache,tier in (a,b),!legacy")
    matching = obj(labels={"app": "cache", "tier": "a"})
    other = obj(labels={"app": "cache", "tier": "a", "legacy": "yes"})
    assert p.create(matching) and p.delete(matching)
    assert not p.create(other) and not p.delete(other)
    assert p.update(other, matching)
    assert not p.update(matching, other)


def test_label_selector_api_form_with_match_labels_and_expressions() -> None:
    p = LabelSelectorPredicate(
        {
            "matchLabels": {"app": "cache"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "zone", "operator": "NotIn", "values": ["z9"]},
                {"key": "owner", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert p.create(obj(labels={"app": "cache", "tier": "b", "owner": "me"}))
    assert not p.create(obj(labels={"app": "cache", "tier": "c", "owner": "me"}))
    assert not p.create(obj(labels={"app": "cache", "tier": "a", "owner": "me", "zone": "z9"}))
    assert not p.create(obj(labels={"app": "cache", "tier": "a"}))
    assert not p.create(obj(labels={"app": "cache", "tier": "a", "owner": "me", "legacy": "1"}))
    assert not p.create(obj(labels={"app": "other", "tier": "a", "owner": "me"}))


def test_an_empty_label_selector_matches_everything() -> None:
    assert LabelSelectorPredicate({}).create(obj(labels=None))
    assert LabelSelectorPredicate("").create(obj(labels={"a": "b"}))


@pytest.mark.parametrize(
    "selector",
    [
        {"matchExpressions": [{"key": "k", "operator": "Near", "values": ["x"]}]},
        {"matchExpressions": [{"key": "k", "operator": "In"}]},
        {"matchExpressions": [{"key": "k", "operator": "Exists", "values": ["x"]}]},
    ],
)
def test_malformed_api_selectors_are_rejected(selector: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        LabelSelectorPredicate(selector)


def test_predicates_combine_with_and_or_not_and_operators() -> None:
    spec_change = (obj(generation=1, labels={"a": "1"}), obj(generation=2, labels={"a": "1"}))
    label_change = (obj(generation=1, labels={"a": "1"}), obj(generation=1, labels={"a": "2"}))
    either = GenerationChanged() | LabelsChanged()
    both = GenerationChanged() & LabelsChanged()
    neither = ~GenerationChanged()
    assert either.update(*spec_change) and either.update(*label_change)
    assert not both.update(*spec_change) and not both.update(*label_change)
    assert neither.update(*label_change) and not neither.update(*spec_change)
    assert isinstance(either, Or) and isinstance(both, And) and isinstance(neither, Not)


def test_combinators_apply_to_creates_and_deletes_too() -> None:
    only_app = LabelSelectorPredicate("app=x")
    labelled, unlabelled = obj(labels={"app": "x"}), obj(labels={})
    assert And(only_app, Predicate()).create(labelled)
    assert not And(only_app, Predicate()).delete(unlabelled)
    assert Or(only_app, Not(only_app)).delete(unlabelled)


def test_object_predicate_tests_the_new_object_of_an_update() -> None:
    named_b = ObjectPredicate(lambda o: o["metadata"]["name"] == "b")
    a, b = obj(), obj()
    b["metadata"]["name"] = "b"
    assert named_b.update(a, b)
    assert not named_b.update(b, a)


def test_or_needs_at_least_one_predicate() -> None:
    with pytest.raises(ValueError):
        Or()
