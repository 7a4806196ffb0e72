"""The test engine package, found only through its entry point."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluidpy.controllers import JINDO_RUNTIME, RuntimeKind
from fluidpy.engines.factory import EngineFactory

ENGINE_PACKAGE = Path(__file__).parent / "engine_package"
TEST_KIND = JINDO_RUNTIME.with_engine("testengine")
"""JindoRuntime objects served by the test engine, as `--engine jindoruntime=testengine` does."""


@pytest.fixture(scope="module")
def engine_factory() -> Iterator[EngineFactory]:
    """A factory that has seen the test package's entry point, and nothing registered by hand."""
    sys.path.insert(0, str(ENGINE_PACKAGE))
    try:
        factory = EngineFactory()
        assert "testengine" in factory.known_types()
        yield factory
    finally:
        sys.path.remove(str(ENGINE_PACKAGE))


@pytest.fixture
def test_kind() -> RuntimeKind:
    return TEST_KIND
