"""retry_on_conflict."""

import pytest

from fluidpy.client import AlreadyExists, Conflict, NotFound, retry_on_conflict


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def conflict() -> Conflict:
    return Conflict(409, "Conflict", "the object has been modified")


def test_conflicts_are_retried_until_the_call_succeeds() -> None:
    fn = Flaky([conflict(), conflict()])
    assert retry_on_conflict(fn) == "done"
    assert fn.calls == 3


def test_the_last_conflict_propagates_after_all_attempts() -> None:
    fn = Flaky([conflict() for _ in range(3)])
    with pytest.raises(Conflict):
        retry_on_conflict(fn, attempts=3)
    assert fn.calls == 3


@pytest.mark.parametrize(
    "error", [AlreadyExists(409, "AlreadyExists", "taken"), NotFound(404, "NotFound", "gone")]
)
def test_other_errors_are_not_retried(error: Exception) -> None:
    fn = Flaky([error])
    with pytest.raises(type(error)):
        retry_on_conflict(fn)
    assert fn.calls == 1
