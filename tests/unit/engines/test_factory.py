"""The engine factory maps runtime types to build functions, from code or entry points."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fluidpy.engines.factory import EngineFactory, UnknownRuntimeType

CTX: Any = object()


def build_marker(engine_id: str, ctx: Any) -> Any:
    return ("built", engine_id, ctx)


@pytest.fixture
def installed_engine_package(tmp_path: Path) -> Iterator[str]:
    """A distribution that declares an engine only through its entry point metadata."""
    group = "fluidpy.engines.test-" + tmp_path.name
    (tmp_path / "thirdparty_engine.py").write_text(
        "def build(engine_id, ctx):\n    return ('third-party', engine_id)\n"
    )
    dist = tmp_path / "thirdparty_engine-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-engine\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{group}]\nthirdparty = thirdparty_engine:build\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield group
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("thirdparty_engine", None)


def test_a_registered_build_function_builds_the_engine() -> None:
    factory = EngineFactory(group="fluidpy.engines.none")
    factory.register("marker", build_marker)

    assert factory.create_engine("marker", "ns-name", CTX) == ("built", "ns-name", CTX)


def test_an_unknown_type_is_a_clear_error_naming_the_known_types() -> None:
    factory = EngineFactory(group="fluidpy.engines.none")
    factory.register("alluxio", build_marker)
    factory.register("jindo", build_marker)

    with pytest.raises(UnknownRuntimeType) as error:
        factory.create_engine("juicefs", "ns-name", CTX)

    assert "'juicefs'" in str(error.value)
    assert "known types: alluxio, jindo" in str(error.value)


def test_engines_of_installed_packages_are_found_through_their_entry_point(
    installed_engine_package: str,
) -> None:
    factory = EngineFactory(group=installed_engine_package)

    assert factory.known_types() == ["thirdparty"]
    assert factory.create_engine("thirdparty", "ns-name", CTX) == ("third-party", "ns-name")


def test_an_explicit_registration_wins_over_an_entry_point(installed_engine_package: str) -> None:
    factory = EngineFactory(group=installed_engine_package)
    factory.register("thirdparty", build_marker)

    assert factory.create_engine("thirdparty", "ns-name", CTX)[0] == "built"


def test_the_built_in_engines_are_declared_as_entry_points() -> None:
    assert {"cacheruntime", "alluxio", "jindo"} <= set(EngineFactory().known_types())
