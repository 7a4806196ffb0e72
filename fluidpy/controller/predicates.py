"""Predicates: which watch events are worth a reconcile.

Predicates filter events before they become requests. They save work, not memory (the informer
caches every object regardless), and they must never be the only guard of correctness: a
reconcile still reads the current state. Predicates combine with `&`, `|` and `~`, or with
And/Or/Not.

Caveats of GenerationChanged, the most used one: status-only changes (including someone wiping
the status) do not trigger a reconcile; resync events are dropped too (old and new are the same
object); and for some built-in kinds (Deployments) metadata changes also bump the generation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fluidpy.client.selector import LabelSelector, Operator, Requirement, parse_label_selector

Object = Mapping[str, Any]


class Predicate:
    """Accepts every event; subclasses override the kinds of event they filter."""

    def create(self, obj: Object) -> bool:
        return True

    def update(self, old: Object, new: Object) -> bool:
        return True

    def delete(self, obj: Object) -> bool:
        return True

    def __and__(self, other: Predicate) -> Predicate:
        return And(self, other)

    def __or__(self, other: Predicate) -> Predicate:
        return Or(self, other)

    def __invert__(self) -> Predicate:
        return Not(self)


class And(Predicate):
    def __init__(self, *predicates: Predicate) -> None:
        self.predicates = predicates

    def create(self, obj: Object) -> bool:
        return all(p.create(obj) for p in self.predicates)

    def update(self, old: Object, new: Object) -> bool:
        return all(p.update(old, new) for p in self.predicates)

    def delete(self, obj: Object) -> bool:
        return all(p.delete(obj) for p in self.predicates)


class Or(Predicate):
    def __init__(self, *predicates: Predicate) -> None:
        if not predicates:
            raise ValueError("Or needs at least one predicate")
        self.predicates = predicates

    def create(self, obj: Object) -> bool:
        return any(p.create(obj) for p in self.predicates)

    def update(self, old: Object, new: Object) -> bool:
        return any(p.update(old, new) for p in self.predicates)

    def delete(self, obj: Object) -> bool:
        return any(p.delete(obj) for p in self.predicates)


class Not(Predicate):
    def __init__(self, predicate: Predicate) -> None:
        self.predicate = predicate

    def create(self, obj: Object) -> bool:
        return not self.predicate.create(obj)

    def update(self, old: Object, new: Object) -> bool:
        return not self.predicate.update(old, new)

    def delete(self, obj: Object) -> bool:
        return not self.predicate.delete(obj)


class ObjectPredicate(Predicate):
    """Applies one test to the object of every event (the new object of an update)."""

    def __init__(self, test: Callable[[Object], bool]) -> None:
        self.test = test

    def create(self, obj: Object) -> bool:
        return self.test(obj)

    def update(self, old: Object, new: Object) -> bool:
        return self.test(new)

    def delete(self, obj: Object) -> bool:
        return self.test(obj)


def _meta(obj: Object) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


class GenerationChanged(Predicate):
    """Updates pass only when metadata.generation changed, i.e. the spec changed."""

    def update(self, old: Object, new: Object) -> bool:
        return _meta(old).get("generation") != _meta(new).get("generation")


class ResourceVersionChanged(Predicate):
    """Updates pass only when the object really changed, which drops resync events."""

    def update(self, old: Object, new: Object) -> bool:
        return _meta(old).get("resourceVersion") != _meta(new).get("resourceVersion")


class LabelsChanged(Predicate):
    """Updates pass only when metadata.labels changed."""

    def update(self, old: Object, new: Object) -> bool:
        return (_meta(old).get("labels") or {}) != (_meta(new).get("labels") or {})


class AnnotationsChanged(Predicate):
    """Updates pass only when metadata.annotations changed."""

    def update(self, old: Object, new: Object) -> bool:
        return (_meta(old).get("annotations") or {}) != (_meta(new).get("annotations") or {})


class LabelSelectorPredicate(ObjectPredicate):
    """Events pass when the object's labels match a label selector.

    The selector is either the string syntax of `kubectl -l` ("app=x,tier in (a,b),!legacy") or
    a metav1.LabelSelector dict ({"matchLabels": {...}, "matchExpressions": [...]}), as found
    in object specs. An empty selector matches everything, as in the API.
    """

    _OPERATORS: Mapping[str, Operator] = {
        "In": "in",
        "NotIn": "notin",
        "Exists": "exists",
        "DoesNotExist": "!",
    }

    def __init__(self, selector: str | Mapping[str, Any]) -> None:
        self.selector = (
            parse_label_selector(selector)
            if isinstance(selector, str)
            else self._from_api(selector)
        )
        super().__init__(self.selector.matches_object)

    @classmethod
    def _from_api(cls, selector: Mapping[str, Any]) -> LabelSelector:
        requirements = [
            Requirement(key, "=", frozenset([value]))
            for key, value in (selector.get("matchLabels") or {}).items()
        ]
        for expr in selector.get("matchExpressions") or ():
            operator = cls._OPERATORS.get(expr.get("operator", ""))
            if operator is None:
                raise ValueError(f"unknown label selector operator {expr.get('operator')!r}")
            values = frozenset(expr.get("values") or ())
            if (operator in ("in", "notin")) != bool(values):
                raise ValueError(f"operator {expr['operator']} has the wrong number of values")
            requirements.append(Requirement(expr["key"], operator, values))
        return LabelSelector(tuple(requirements))
