"""Context deadlines: every context with a timeout ends at its deadline, all kept by one thread."""

from __future__ import annotations

import threading

from fluidpy.context import Cancelled, Context, DeadlineExceeded


def test_a_context_ends_at_its_deadline_with_deadline_exceeded() -> None:
    ctx, _ = Context.background().with_timeout(0.05)

    assert ctx.wait(30)
    assert isinstance(ctx.err(), DeadlineExceeded)


def test_a_context_cancelled_before_its_deadline_stays_cancelled() -> None:
    ctx, cancel = Context.background().with_timeout(0.05)
    cancel()
    later, _ = Context.background().with_timeout(0.1)

    assert later.wait(30)
    assert isinstance(ctx.err(), Cancelled)


def test_a_sooner_deadline_added_later_is_not_held_up_by_a_far_one() -> None:
    far, cancel_far = Context.background().with_timeout(3600)
    near, _ = Context.background().with_timeout(0.05)

    assert near.wait(30)
    assert not far.done()
    cancel_far()


def test_many_timeouts_share_one_thread() -> None:
    Context.background().with_timeout(3600)  # the deadline thread exists from here on
    before = threading.active_count()

    contexts = [Context.background().with_timeout(3600) for _ in range(50)]

    assert threading.active_count() == before
    for _, cancel in contexts:
        cancel()


def test_a_child_ends_with_its_parents_deadline() -> None:
    parent, _ = Context.background().with_timeout(0.05)
    child, _ = parent.with_cancel()

    assert child.wait(30)
    assert isinstance(child.err(), DeadlineExceeded)
