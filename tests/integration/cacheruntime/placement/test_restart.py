"""The cache node labels live on the nodes: a manager restarted mid-way reads them back and
neither loses nor double-counts a Dataset (`fluid.io/dataset-num`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from fluidpy.manager import Manager

pytestmark = pytest.mark.integration


class Restartable:
    """The whole manager, stopped and started again on demand."""

    def __init__(self, start_manager: Any) -> None:
        self._start_manager = start_manager
        self._running: AbstractContextManager[Manager] | None = None

    def start(self) -> None:
        self._running = self._start_manager()
        self._running.__enter__()

    def stop(self) -> None:
        if self._running is not None:
            self._running.__exit__(None, None, None)
            self._running = None


@pytest.fixture
def manager(start_manager: Any) -> Iterator[Restartable]:
    """This module's manager in place of the shared one, so the test can restart it."""
    restartable = Restartable(start_manager)
    restartable.start()
    try:
        yield restartable
    finally:
        restartable.stop()


def test_a_restarted_manager_keeps_the_labels_and_the_dataset_count(
    caches: Any, kube: Any, manager: Restartable
) -> None:
    free = len(caches.nodes) - 1
    for name in ("a", "b"):
        caches.create(name, workers=free, placement="Shared")
        kube.wait_bound(name)
        caches.scheduled(name, free)
    before = caches.labelled_as(["a", "b"])
    assert any(labels.get("fluid.io/dataset-num") == "2" for labels in before.values()), before

    manager.stop()
    manager.start()
    caches.scale("b", 1)
    caches.scheduled("b", 1)
    after = caches.labelled_as(["a", "b"])

    a_keys = {caches.infos["a"].runtime_label, caches.infos["a"].common_label}
    for node, labels in before.items():
        assert {k: v for k, v in after[node].items() if k in a_keys} == {
            k: v for k, v in labels.items() if k in a_keys
        }
    caches.scale("a", 1)
    caches.scheduled("a", 1)
    caches.labelled_as(["a", "b"])
