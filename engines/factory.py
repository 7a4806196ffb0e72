"""The engine factory: runtime type name -> build function.

Engines are found through the entry-point group `fluidpy.engines` (name = runtime type, value =
the build function). The built-in ones (cacheruntime, alluxio, jindo) are declared there in our
own pyproject.toml, exactly as a third party declares its own, so adding a cache system takes a
`pip install` and no change here. `register()` adds one in-process (tests, embedding).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from fluidpy.engines.base import Engine, ReconcileRequestContext

ENTRY_POINT_GROUP = "fluidpy.engines"

BuildFunction = Callable[[str, ReconcileRequestContext], Engine]
"""`build(engine_id, ctx) -> Engine`; engine_id is `<namespace>-<name>`."""


class UnknownRuntimeType(LookupError):
    def __init__(self, runtime_type: str, known: list[str]) -> None:
        super().__init__(
            f"no engine is registered for runtime type {runtime_type!r}; known types: "
            f"{', '.join(known) or 'none'}. Install the package that provides it (entry-point "
            f"group {ENTRY_POINT_GROUP!r}) or call engines.factory.register()."
        )
        self.runtime_type = runtime_type


class EngineFactory:
    """Build functions by runtime type; entry points are read once, on first use."""

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self._group = group
        self._builders: dict[str, BuildFunction] = {}
        self._entry_points: dict[str, EntryPoint] = {}
        self._lock = threading.Lock()
        self._discovered = False

    def register(self, runtime_type: str, build: BuildFunction) -> None:
        """Make `build` the engine of `runtime_type`, replacing any earlier registration."""
        with self._lock:
            self._builders[runtime_type] = build

    def _discover(self) -> None:
        """Read the entry points once; each is imported only when its type is first built, so
        one broken engine package cannot break the others."""
        with self._lock:
            if self._discovered:
                return
            self._discovered = True
            for entry in entry_points(group=self._group):
                self._entry_points.setdefault(entry.name, entry)

    def known_types(self) -> list[str]:
        self._discover()
        with self._lock:
            return sorted(self._builders.keys() | self._entry_points.keys())

    def create_engine(
        self, runtime_type: str, engine_id: str, ctx: ReconcileRequestContext
    ) -> Engine:
        self._discover()
        with self._lock:
            build = self._builders.get(runtime_type)
            entry = self._entry_points.get(runtime_type)
        if build is None and entry is not None:
            loaded: BuildFunction = entry.load()
            with self._lock:
                build = self._builders.setdefault(runtime_type, loaded)
        if build is None:
            raise UnknownRuntimeType(runtime_type, self.known_types())
        return build(engine_id, ctx)


default_factory = EngineFactory()
register = default_factory.register
create_engine = default_factory.create_engine
known_types = default_factory.known_types


def generate_engine_id(namespace: str, name: str) -> str:
    return f"{namespace}-{name}"
