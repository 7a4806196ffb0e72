"""Label and field selectors, parsed from the API's string syntax and matched client-side.

The cache answers list calls from memory, so it has to apply the same selectors the API server
would. Label selectors support the whole string grammar: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
`k notin (a,b)`, `k` (exists) and `!k` (does not exist), joined by commas, all of which must
hold. As on the server, `!=` and `notin` also match objects without the label. Field selectors
support `path=value`, `path==value` and `path!=value` on any dotted path; a missing field reads
as the empty string. (The server accepts only a few paths per kind; the cache accepts any.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Operator = Literal["=", "!=", "in", "notin", "exists", "!"]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_NOT_EXISTS = re.compile(rf"!\s*(?P<key>{_KEY})")
_SET = re.compile(rf"(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)")
_EQUALITY = re.compile(rf"(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})")
_EXISTS = re.compile(rf"(?P<key>{_KEY})")
_VALUE_ONLY = re.compile(_VALUE)


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values

    def implies(self, other: Requirement) -> bool:
        """Whether every label set meeting this requirement meets `other` (on the same key)."""
        if self.key != other.key:
            return False
        valued = self.operator in ("=", "in")  # present, with a value among self.values
        if other.operator == "exists":
            return valued or self.operator == "exists"
        if other.operator in ("=", "in"):
            return valued and self.values <= other.values
        if other.operator == "!":
            return self.operator == "!"
        # other is != or notin: absent, or present with a value outside other.values
        if self.operator == "!":
            return True
        if valued:
            return not self.values & other.values
        return self.operator in ("!=", "notin") and other.values <= self.values


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """All requirements must hold; no requirement at all matches everything."""

    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        return self.matches(obj.get("metadata", {}).get("labels"))

    def implies(self, other: LabelSelector) -> bool:
        """Whether everything this selector matches, `other` matches too. Judged requirement by
        requirement, so True is certain and False may be overcautious (`a in (x,y),a!=y` does
        imply `a=x`): the cache answers a list from an informer of narrower selection only when
        the list's selector implies the informer's, and asks the API server otherwise."""
        return all(
            any(mine.implies(theirs) for mine in self.requirements) for theirs in other.requirements
        )


@lru_cache(maxsize=256)
def parse_label_selector(selector: str) -> LabelSelector:
    """Parse the string form; raises ValueError on syntax errors, as the server answers 400."""
    return LabelSelector(tuple(_requirement(term) for term in _split_terms(selector)))


def _split_terms(selector: str) -> list[str]:
    terms: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(selector):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in selector {selector!r}")
        elif char == "," and depth == 0:
            terms.append(selector[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '(' in selector {selector!r}")
    terms.append(selector[start:])
    stripped = [t.strip() for t in terms]
    if stripped == [""]:
        return []
    if "" in stripped:
        raise ValueError(f"empty requirement in selector {selector!r}")
    return stripped


def _requirement(term: str) -> Requirement:
    if match := _NOT_EXISTS.fullmatch(term):
        return Requirement(match["key"], "!")
    if match := _SET.fullmatch(term):
        values = [v.strip() for v in match["values"].split(",")]
        if not all(_VALUE_ONLY.fullmatch(v) for v in values):
            raise ValueError(f"invalid value in {term!r}")
        op: Operator = "in" if match["op"] == "in" else "notin"
        return Requirement(match["key"], op, frozenset(values))
    if match := _EQUALITY.fullmatch(term):
        op = "!=" if match["op"] == "!=" else "="
        return Requirement(match["key"], op, frozenset((match["value"],)))
    if match := _EXISTS.fullmatch(term):
        return Requirement(match["key"], "exists")
    raise ValueError(f"invalid label selector requirement {term!r}")


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    path: tuple[str, ...]
    value: str
    negated: bool

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return (_field_text(obj, self.path) == self.value) != self.negated


@dataclass(frozen=True, slots=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...]

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        return all(r.matches(obj) for r in self.requirements)


@lru_cache(maxsize=256)
def parse_field_selector(selector: str) -> FieldSelector:
    requirements = []
    for raw in selector.split(","):
        term = raw.strip()
        if not term:
            if selector.strip():
                raise ValueError(f"empty requirement in field selector {selector!r}")
            continue
        path, op, value = _field_term(term)
        requirements.append(FieldRequirement(tuple(path.split(".")), value, op == "!="))
    return FieldSelector(tuple(requirements))


def _field_term(term: str) -> tuple[str, str, str]:
    for op in ("!=", "==", "="):
        path, found, value = term.partition(op)
        if found:
            path, value = path.strip(), value.strip()
            if not path or any(not part for part in path.split(".")):
                raise ValueError(f"invalid field path in {term!r}")
            return path, op, value
    raise ValueError(f"invalid field selector requirement {term!r}")


def _field_text(obj: Mapping[str, Any], path: tuple[str, ...]) -> str:
    value: Any = obj
    for part in path:
        if not isinstance(value, Mapping):
            return ""
        value = value.get(part)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
