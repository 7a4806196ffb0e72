"""Work queue throughput. Prints figures; never passes or fails on time.

Operations are counted one by one: an add, a get and a done are three operations. Each scenario
runs `--repeat` times and prints the median and the best run, because the machine is shared and
single runs are noisy.

Scenarios:
* single thread, one key at a time: the loop add/get/done, metrics off and on (the target is
  500k operations a second on one thread);
* single thread, deep queue: 10,000 distinct keys added, then all taken and done;
* 8 threads, each looping add/get/done on one shared queue (worst-case lock and GIL contention);
* 1 producer and 8 workers, the shape of a controller;
* add_after: delayed adds into a growing heap; taking delayed keys once they are due.

Run: .venv/bin/python benchmarks/bench_workqueue.py [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

from fluidpy.workqueue import WorkQueue

WORKERS = 8


def new_queue(metrics: bool) -> WorkQueue[str]:
    # Named in both cases, so the only difference is the metrics flag.
    return WorkQueue("bench", metrics=metrics)


def single_key_loop(metrics: bool, cycles: int) -> tuple[int, float]:
    queue = new_queue(metrics)
    keys = [f"ns/object-{i % 1000}" for i in range(cycles)]
    add, get, done = queue.add, queue.get, queue.done
    start = time.perf_counter()
    for key in keys:
        add(key)
        item = get()
        done(item)  # type: ignore[arg-type]  # never None: the queue is not shut down
    return 3 * cycles, time.perf_counter() - start


def deep_queue(metrics: bool, keys: int) -> tuple[int, float]:
    queue = new_queue(metrics)
    names = [f"ns/object-{i}" for i in range(keys)]
    add, get, done = queue.add, queue.get, queue.done
    start = time.perf_counter()
    for name in names:
        add(name)
    for _ in range(keys):
        done(get())  # type: ignore[arg-type]
    return 3 * keys, time.perf_counter() - start


def contended_loops(metrics: bool, cycles_per_thread: int) -> tuple[int, float]:
    queue = new_queue(metrics)
    barrier = threading.Barrier(WORKERS + 1)

    def loop(worker: int) -> None:
        # Unique keys: with reused ones, a key re-added while another thread (descheduled by
        # the GIL) still holds it is deduplicated, and the loops would wait for an item forever.
        keys = [f"w{worker}/object-{i}" for i in range(cycles_per_thread)]
        add, get, done = queue.add, queue.get, queue.done
        barrier.wait()
        for key in keys:
            add(key)
            done(get())  # type: ignore[arg-type]

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return 3 * WORKERS * cycles_per_thread, time.perf_counter() - start


def producer_and_workers(metrics: bool, adds: int) -> tuple[int, float]:
    queue = new_queue(metrics)
    rng = random.Random(1)
    keys = [f"ns/object-{rng.randrange(10_000)}" for _ in range(adds)]
    handled = [0] * WORKERS

    def work(worker: int) -> None:
        get, done = queue.get, queue.done
        count = 0
        while (item := get()) is not None:
            done(item)
            count += 1
        handled[worker] = count

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    add = queue.add
    for key in keys:
        add(key)
    queue.shut_down_with_drain()
    elapsed = time.perf_counter() - start
    for thread in threads:
        thread.join()
    return adds + 2 * sum(handled), elapsed


def add_after_only(metrics: bool, adds: int) -> tuple[int, float]:
    queue = new_queue(metrics)
    rng = random.Random(2)
    plan = [(f"ns/object-{i}", rng.uniform(60.0, 120.0)) for i in range(adds)]
    add_after = queue.add_after
    start = time.perf_counter()
    for key, delay in plan:
        add_after(key, delay)
    return adds, time.perf_counter() - start


def take_due_delayed(metrics: bool, adds: int) -> tuple[int, float]:
    """get/done of keys added with add_after once all are due; includes moving them off the heap."""
    queue = new_queue(metrics)
    rng = random.Random(3)
    delays = [rng.uniform(0.0, 0.05) for _ in range(adds)]
    for i, delay in enumerate(delays):
        queue.add_after(f"ns/object-{i}", delay)
    time.sleep(max(delays))  # not timed: only the work after the keys are due is measured
    get, done = queue.get, queue.done
    start = time.perf_counter()
    for _ in range(adds):
        done(get())  # type: ignore[arg-type]
    return 2 * adds, time.perf_counter() - start


def report(label: str, run: Callable[[], tuple[int, float]], repeat: int) -> None:
    rates = []
    for _ in range(repeat):
        ops, seconds = run()
        rates.append(ops / seconds)
    print(
        f"{label:<58} median {statistics.median(rates):>12,.0f} ops/s"
        f"   best {max(rates):>12,.0f} ops/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a tenth of the work, for a smoke run")
    args = parser.parse_args()
    scale = 10 if args.quick else 1

    print(f"Python {platform.python_version()} ({sys.implementation.name}), {os.cpu_count()} CPUs")
    print("add, get and done each count as one operation\n")
    for metrics in (False, True):
        tag = "metrics on " if metrics else "metrics off"
        report(
            f"1 thread, add/get/done loop, {tag}",
            partial(single_key_loop, metrics, 300_000 // scale),
            args.repeat,
        )
    for metrics in (False, True):
        tag = "metrics on " if metrics else "metrics off"
        report(
            f"1 thread, 10k keys queued then taken, {tag}",
            partial(deep_queue, metrics, 10_000),
            args.repeat,
        )
    for metrics in (False, True):
        tag = "metrics on " if metrics else "metrics off"
        report(
            f"{WORKERS} threads, each an add/get/done loop, {tag}",
            partial(contended_loops, metrics, 40_000 // scale),
            args.repeat,
        )
    for metrics in (False, True):
        tag = "metrics on " if metrics else "metrics off"
        report(
            f"1 producer + {WORKERS} workers, {tag}",
            partial(producer_and_workers, metrics, 200_000 // scale),
            args.repeat,
        )
    report(
        "add_after into a 100k-entry heap (add_after calls only)",
        partial(add_after_only, True, 100_000 // scale),
        args.repeat,
    )
    report(
        "get/done of 100k delayed keys once due (incl. heap pops)",
        partial(take_due_delayed, True, 100_000 // scale),
        args.repeat,
    )


if __name__ == "__main__":
    main()
