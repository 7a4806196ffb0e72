"""Running a Manager inside a test process, the way envtest suites run theirs."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from fluidpy.context import Context
from fluidpy.manager import Manager
from fluidpy.testing.waiting import wait_for


@contextlib.contextmanager
def manager_running(
    manager: Manager, *, wait_ready: bool = True, start_timeout: float = 90.0
) -> Iterator[Manager]:
    """Run `manager` on a thread until the block ends; by default first wait until it leads
    and its caches sync (`wait_ready=False` for tests of start-up itself). Leaving the block
    stops the manager, fails if it does not stop, and re-raises whatever made it fail.

    Build the manager with `handle_signals=False` (only the main thread may install signal
    handlers) and with ":0" bind addresses, so parallel managers never fight over ports.
    """
    ctx, cancel = Context.background().with_cancel()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            manager.run(ctx)
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, name="test-manager", daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: failure or (manager.is_leader and _synced(manager)),
            "the manager to lead and sync its caches",
            timeout=start_timeout,
        )
        if failure:
            raise RuntimeError("the manager failed to start") from failure[0]
        yield manager
    finally:
        cancel()
        thread.join(timeout=manager.options.graceful_shutdown_timeout + 15)
    if failure:
        raise RuntimeError("the manager stopped with an error") from failure[0]


def _synced(manager: Manager) -> bool:
    readyz = manager.probes.readyz
    return all(readyz.run(name) is None for name in readyz.names())
