"""Many producers and workers on one real-clock queue: exclusivity and no lost adds.

Bounded (a fixed number of adds) and free of timing assertions: the only waits are hang guards.
"""

from __future__ import annotations

import random
import threading

from fluidpy.workqueue import LOW_PRIORITY, WorkQueue

WORKERS = 8
PRODUCERS = 4
ADDS_PER_PRODUCER = 5_000
KEYS = [f"ns/object-{i}" for i in range(50)]
HANG_GUARD = 120.0


class Ledger:
    """What the test saw, kept under its own lock, separate from the queue's."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = dict.fromkeys(KEYS, 0)  # bumped before every add of the key
        self.version_seen = dict.fromkeys(KEYS, 0)  # the version when a worker last took it
        self.held: set[str] = set()
        self.overlaps: list[str] = []
        self.handled = 0


def produce(queue: WorkQueue[str], ledger: Ledger, seed: int, delayed: bool) -> None:
    rng = random.Random(seed)
    for n in range(ADDS_PER_PRODUCER):
        if n % 10 == 0:
            threading.Event().wait(0.0001)  # events come in bursts, workers get to run
        key = rng.choice(KEYS)
        with ledger.lock:
            ledger.version[key] += 1
        priority = rng.choice([LOW_PRIORITY, 0, 0, 5])
        if delayed and rng.random() < 0.5:
            queue.add_after(key, rng.random() * 0.002, priority)
        else:
            queue.add(key, priority)


def work(queue: WorkQueue[str], ledger: Ledger, seed: int) -> None:
    rng = random.Random(seed)
    while (key := queue.get()) is not None:
        with ledger.lock:
            if key in ledger.held:
                ledger.overlaps.append(key)
            ledger.held.add(key)
            ledger.version_seen[key] = ledger.version[key]
        if rng.random() < 0.8:
            threading.Event().wait(0.0005)  # hold the key a while, so adds hit held keys
        with ledger.lock:
            ledger.held.discard(key)
            ledger.handled += 1
        queue.done(key)


def run(delayed: bool) -> tuple[Ledger, bool]:
    queue: WorkQueue[str] = WorkQueue("stress")
    ledger = Ledger()
    workers = [
        threading.Thread(target=work, args=(queue, ledger, i), daemon=True) for i in range(WORKERS)
    ]
    producers = [
        threading.Thread(target=produce, args=(queue, ledger, 100 + i, delayed), daemon=True)
        for i in range(PRODUCERS)
    ]
    for thread in workers + producers:
        thread.start()
    for thread in producers:
        thread.join(HANG_GUARD)
    if delayed:
        # Delays are at most 2 ms: once they are all due, shutting down drops none of them.
        threading.Event().wait(0.01)
    drained = queue.shut_down_with_drain(timeout=HANG_GUARD)
    for thread in workers:
        thread.join(HANG_GUARD)
    assert not any(thread.is_alive() for thread in workers + producers)
    return ledger, drained


def test_no_key_is_ever_held_by_two_workers_and_every_add_is_handled() -> None:
    ledger, drained = run(delayed=False)
    assert drained
    assert ledger.overlaps == []
    assert ledger.version_seen == ledger.version
    assert ledger.handled <= PRODUCERS * ADDS_PER_PRODUCER


def test_delayed_adds_from_many_threads_are_handled_after_their_last_add() -> None:
    ledger, drained = run(delayed=True)
    assert drained
    assert ledger.overlaps == []
    assert ledger.version_seen == ledger.version
