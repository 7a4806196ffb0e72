"""Fixtures shared by the integration tests: CRDs, and fluidpy managers running in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import pytest

from fluidpy.controllers import (
    BUILTIN_KINDS,
    CACHE_VIEWS,
    ControllerOptions,
    RuntimeKind,
    RuntimeReconcilerOptions,
    setup_dataload_controller,
    setup_dataset_controller,
    setup_runtime_controller,
)
from fluidpy.controllers.dataload import Clock, utc_now
from fluidpy.engines.factory import EngineFactory, default_factory
from fluidpy.manager import Manager, ManagerOptions
from fluidpy.testing import LocalCluster
from fluidpy.testing.manager import manager_running

StartManager = Callable[..., AbstractContextManager[Manager]]


@pytest.fixture(scope="session")
def crds(cluster: LocalCluster, cluster_crds: list[dict[str, Any]]) -> list[str]:
    """The names of fluidpy's CRDs, which the session's cluster was started with."""
    return [crd["metadata"]["name"] for crd in cluster_crds]


def build_fluid_manager(
    cluster: LocalCluster,
    *,
    kinds: Sequence[RuntimeKind] = tuple(BUILTIN_KINDS.values()),
    factory: EngineFactory = default_factory,
    dataset_controller: bool = True,
    namespaces: tuple[str, ...] | None = None,
    connection: Any = None,
    clock: Clock = utc_now,
    **options: Any,
) -> Manager:
    """A manager like `fluidpy manager` builds, on free ports, without signal handlers."""
    manager = Manager(
        connection or cluster.connection(),
        ManagerOptions(
            health_probe_bind_address="127.0.0.1:0",
            metrics_bind_address="127.0.0.1:0",
            handle_signals=False,
            graceful_shutdown_timeout=10.0,
            namespaces=namespaces,
            cache_kinds=CACHE_VIEWS,
            qps=200.0,
            burst=400,
            **options,
        ),
    )
    controller_options = ControllerOptions(runtime=RuntimeReconcilerOptions(resync_period=0))
    for kind in kinds:
        setup_runtime_controller(manager, kind, controller_options, factory=factory)
    if dataset_controller:
        setup_dataset_controller(manager, controller_options)
        setup_dataload_controller(manager, kinds, controller_options, factory=factory, clock=clock)
    return manager


@pytest.fixture
def start_manager(cluster: LocalCluster, crds: list[str]) -> StartManager:
    """`with start_manager(kinds=..., factory=...) as manager:` runs a custom manager."""

    def start(**kwargs: Any) -> AbstractContextManager[Manager]:
        return manager_running(build_fluid_manager(cluster, **kwargs))

    return start


@pytest.fixture(scope="module")
def dataload_clock() -> Clock:
    """The DataLoad controller's clock; a module overrides this fixture to move time itself."""
    return utc_now


@pytest.fixture(scope="module")
def manager(cluster: LocalCluster, crds: list[str], dataload_clock: Clock) -> Iterator[Manager]:
    """The full manager (every runtime controller, the Dataset and DataLoad controllers), per
    test module.

    Per module rather than per session, so a module that needs a differently built manager can
    run its own without two managers reconciling the same objects.
    """
    with manager_running(build_fluid_manager(cluster, clock=dataload_clock)) as running:
        yield running
