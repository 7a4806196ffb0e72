"""Label and field selectors, matched client-side as the API server matches them."""

import pytest

from fluidpy.client import parse_field_selector, parse_label_selector

LABELS = {"app": "web", "tier": "frontend", "fluid.io/dataset": "hbase"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("app!=web", False),
        ("missing!=x", True),
        ("app in (web, db)", True),
        ("app in (db)", False),
        ("missing in (x)", False),
        ("app notin (db,cache)", True),
        ("app notin (web)", False),
        ("missing notin (x)", True),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("fluid.io/dataset=hbase", True),
        ("app=web,tier=frontend", True),
        ("app=web, tier=backend", False),
        ("app in (web,db),!missing,tier", True),
        ("  app = web  ", True),
    ],
)
def test_label_selector_matches_like_the_api_server(selector: str, matches: bool) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


def test_object_without_labels_matches_only_absence_requirements() -> None:
    obj: dict[str, object] = {"metadata": {"name": "x"}}
    assert parse_label_selector("!app").matches_object(obj)
    assert parse_label_selector("app notin (web)").matches_object(obj)
    assert not parse_label_selector("app").matches_object(obj)


@pytest.mark.parametrize(
    "selector",
    ["=web", "app=web,", ",app", "app in (web", "app in web)", "app > 1", "a b", "!app=x"],
)
def test_malformed_label_selector_is_rejected(selector: str) -> None:
    with pytest.raises(ValueError):
        parse_label_selector(selector)


def test_empty_value_matches_a_label_set_to_the_empty_string() -> None:
    assert parse_label_selector("app=").matches({"app": ""})
    assert not parse_label_selector("app=").matches({"app": "web"})


POD = {
    "metadata": {"name": "web-0", "namespace": "prod"},
    "spec": {"nodeName": "node-1", "hostNetwork": False},
    "status": {"phase": "Running"},
}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("metadata.name=web-0", True),
        ("metadata.name==web-0", True),
        ("metadata.name!=web-0", False),
        ("spec.nodeName=node-1,status.phase=Running", True),
        ("spec.nodeName=node-2", False),
        ("spec.schedulerName=", True),
        ("spec.schedulerName!=", False),
        ("spec.hostNetwork=false", True),
        ("metadata.name.deeper=x", False),
    ],
)
def test_field_selector_compares_dotted_paths_as_text(selector: str, matches: bool) -> None:
    assert parse_field_selector(selector).matches_object(POD) is matches


@pytest.mark.parametrize("selector", ["metadata.name", "=x", "metadata..name=x", "a=b,,c=d"])
def test_malformed_field_selector_is_rejected(selector: str) -> None:
    with pytest.raises(ValueError):
        parse_field_selector(selector)


@pytest.mark.parametrize(
    ("narrow", "wide", "implied"),
    [
        ("app=web,release=demo", "app=web,release", True),
        ("app=web,release=demo", "app=web", True),
        ("app=web", "app=web,release", False),
        ("app=db,release=demo", "app=web,release", False),
        ("app=web", "", True),
        ("", "app=web", False),
        ("app in (web)", "app in (web,db)", True),
        ("app in (web,db)", "app=web", False),
        ("app", "app", True),
        ("app", "app=web", False),
        ("!app", "app!=web", True),
        ("app=db", "app!=web", True),
        ("app=web", "app!=web", False),
        ("app notin (web,db)", "app!=web", True),
        ("app!=web", "app notin (web,db)", False),
        ("!app", "!app", True),
        ("app!=web", "!app", False),
    ],
)
def test_a_selector_implies_another_when_all_it_matches_the_other_matches(
    narrow: str, wide: str, implied: bool
) -> None:
    assert parse_label_selector(narrow).implies(parse_label_selector(wide)) is implied


@pytest.mark.parametrize(
    ("narrow", "wide"),
    [("app=web,release=demo", "app=web,release"), ("app=db", "app!=web"), ("!app", "app!=web")],
)
def test_what_an_implying_selector_matches_the_implied_one_matches(narrow: str, wide: str) -> None:
    label_sets = [{}, {"app": "web"}, {"app": "db"}, {"app": "web", "release": "demo"}]
    chosen = [labels for labels in label_sets if parse_label_selector(narrow).matches(labels)]
    assert chosen
    assert all(parse_label_selector(wide).matches(labels) for labels in chosen)
