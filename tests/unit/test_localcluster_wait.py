"""The local cluster waits for each component with a growing pause, and stops waiting as soon as
the component has died, naming it."""

from __future__ import annotations

import pytest

from fluidpy.testing.localcluster import ClusterStartError, _wait_until


def test_a_probe_that_fails_then_holds_ends_the_wait() -> None:
    answers = iter([ConnectionRefusedError(), False, True])

    def probe() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    _wait_until("kube-apiserver /readyz", probe, timeout=60)

    assert next(answers, "used up") == "used up"


def test_a_dead_component_ends_the_wait_at_once_with_its_failure() -> None:
    probes = []

    with pytest.raises(ClusterStartError, match=r"^etcd: exited with status 1$"):
        _wait_until("etcd", lambda: probes.append(1) or False, 60, lambda: "exited with status 1")

    assert probes == [1]


def test_a_probe_that_never_holds_fails_naming_what_was_awaited() -> None:
    with pytest.raises(ClusterStartError, match=r"^kwok nodes: not ready after 0 s$"):
        _wait_until("kwok nodes", lambda: False, timeout=0.2)
