"""Event recording: aggregation of repeats, bounded memory, and never blocking the caller."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog

from fluidpy.client import NotFound
from fluidpy.events import EventBroadcaster, involved_object, render_event

WAIT = 10.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return datetime(2030, 1, 1, tzinfo=UTC) + timedelta(seconds=self.now)


class FakeSink:
    def __init__(self) -> None:
        self.events: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_creates = False

    def create(self, event: dict[str, Any]) -> None:
        if self.fail_creates:
            raise RuntimeError("api server down")
        key = (event["metadata"]["namespace"], event["metadata"]["name"])
        assert key not in self.events, "event names must be unique"
        self.events[key] = dict(event)
        self.calls.append(("create", event["reason"]))

    def patch(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        event = self.events.get((namespace, name))
        if event is None:
            raise NotFound(404, "NotFound", "event expired", {})
        event.update(patch)
        self.calls.append(("patch", event["reason"]))


def pod(name: str = "p", namespace: str | None = "ns", uid: str = "uid-1") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": uid, "resourceVersion": "7"}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta}


def broadcaster(sink: FakeSink, clock: FakeClock, **options: Any) -> EventBroadcaster:
    return EventBroadcaster(sink, host="node-a", clock=clock, wall_clock=clock.wall, **options)


def flush(b: EventBroadcaster) -> None:
    assert b.flush(timeout=WAIT)


def test_an_event_becomes_a_core_v1_event_about_the_object() -> None:
    sink, clock = FakeSink(), FakeClock()
    b = broadcaster(sink, clock)
    b.start()
    b.recorder("dataset-controller").event(pod(), "Warning", "FailedMount", "no volume")
    flush(b)
    [event] = sink.events.values()
    assert event["apiVersion"] == "v1" and event["kind"] == "Event"
    assert event["metadata"]["namespace"] == "ns"
    assert event["metadata"]["name"].startswith("p.")
    assert event["involvedObject"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "p",
        "namespace": "ns",
        "uid": "uid-1",
        "resourceVersion": "7",
    }
    assert (event["type"], event["reason"], event["message"]) == (
        "Warning",
        "FailedMount",
        "no volume",
    )
    assert event["source"] == {"component": "dataset-controller", "host": "node-a"}
    assert event["count"] == 1
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2030-01-01T00:01:40Z"


def test_repeats_within_the_window_patch_count_and_last_timestamp() -> None:
    sink, clock = FakeSink(), FakeClock()
    b = broadcaster(sink, clock, aggregation_window=600)
    recorder = b.recorder("c")
    b.start()
    recorder.event(pod(), "Normal", "Synced", "ok")
    flush(b)
    for _ in range(3):
        clock.now += 60
        recorder.event(pod(), "Normal", "Synced", "ok")
    flush(b)
    assert sink.calls == [
        ("create", "Synced"),
        ("patch", "Synced"),
        ("patch", "Synced"),
        ("patch", "Synced"),
    ]
    [event] = sink.events.values()
    assert event["count"] == 4
    assert event["lastTimestamp"] == "2030-01-01T00:04:40Z"
    assert event["firstTimestamp"] == "2030-01-01T00:01:40Z"


def test_events_differing_in_reason_message_type_or_object_are_separate() -> None:
    sink, clock = FakeSink(), FakeClock()
    b = broadcaster(sink, clock)
    r = b.recorder("c")
    b.start()
    r.event(pod(), "Normal", "Synced", "ok")
    r.event(pod(), "Normal", "Synced", "different message")
    r.event(pod(), "Warning", "Synced", "ok")
    r.event(pod(), "Normal", "Other", "ok")
    r.event(pod(name="q", uid="uid-2"), "Normal", "Synced", "ok")
    b.recorder("another-component").event(pod(), "Normal", "Synced", "ok")
    flush(b)
    assert [c for c, _ in sink.calls] == ["create"] * 6
    assert all(e["count"] == 1 for e in sink.events.values())


def test_a_repeat_after_the_window_creates_a_new_event() -> None:
    sink, clock = FakeSink(), FakeClock()
    b = broadcaster(sink, clock, aggregation_window=600)
    r = b.recorder("c")
    b.start()
    r.event(pod(), "Normal", "Synced", "ok")
    flush(b)
    clock.now += 601
    b.recorder("c").event(pod(), "Normal", "Synced", "ok")
    flush(b)
    assert [c for c, _ in sink.calls] == ["create", "create"]
    assert len(sink.events) == 2


def test_a_repeat_of_an_event_deleted_meanwhile_creates_it_again() -> None:
    sink, clock = FakeSink(), FakeClock()
    b = broadcaster(sink, clock)
    b.start()
    b.recorder("c").event(pod(), "Normal", "Synced", "ok")
    flush(b)
    sink.events.clear()  # expired by the API server's event TTL
    b.recorder("c").event(pod(), "Normal", "Synced", "ok")
    flush(b)
    [event] = sink.events.values()
    assert event["count"] == 1


def test_memory_of_recent_events_is_bounded() -> None:
    sink, clock = FakeSink(), FakeClock()
    b = broadcaster(sink, clock, max_remembered=3)
    r = b.recorder("c")
    b.start()
    for i in range(5):
        r.event(pod(name=f"p{i}", uid=f"u{i}"), "Normal", "Synced", "ok")
    r.event(pod(name="p0", uid="u0"), "Normal", "Synced", "ok")  # forgotten: created anew
    r.event(pod(name="p4", uid="u4"), "Normal", "Synced", "ok")  # remembered: patched
    flush(b)
    assert [c for c, _ in sink.calls] == ["create"] * 6 + ["patch"]


class StuckSink(FakeSink):
    """A sink whose writes wait until `release` is set, as an API server that stopped
    answering would keep the writer."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def create(self, event: dict[str, Any]) -> None:
        self.release.wait(WAIT)
        super().create(event)


def test_recording_never_blocks_when_the_writer_is_stuck() -> None:
    sink = StuckSink()
    b = broadcaster(sink, FakeClock(), queue_size=2)
    r = b.recorder("c")
    b.start()
    for i in range(10):  # the writer holds one, the queue two, the rest are dropped
        r.event(pod(name=f"p{i}", uid=f"u{i}"), "Normal", "Synced", "ok")
    assert b.dropped >= 7
    sink.release.set()
    flush(b)
    assert len(sink.events) == 10 - b.dropped
    assert b.stop(timeout=WAIT)


def test_a_run_of_dropped_events_is_logged_when_it_starts_and_when_it_ends() -> None:
    sink = StuckSink()
    b = broadcaster(sink, FakeClock(), queue_size=2)
    r = b.recorder("c")
    b.start()
    with structlog.testing.capture_logs() as logs:
        for i in range(10):
            r.event(pod(name=f"p{i}", uid=f"u{i}"), "Normal", "Synced", "ok")
        sink.release.set()
        flush(b)
        r.event(pod(name="late", uid="late"), "Normal", "Synced", "ok")
    flush(b)

    warnings = [line for line in logs if line["log_level"] == "warning"]
    assert [line["event"] for line in warnings] == [
        "event queue full, dropping events until it has room",
        "event queue has room again",
    ]
    assert warnings[1]["dropped"] == b.dropped >= 7
    assert b.stop(timeout=WAIT)


def test_a_failing_write_is_dropped_and_later_events_still_go_out() -> None:
    sink, clock = FakeSink(), FakeClock()
    sink.fail_creates = True
    b = broadcaster(sink, clock)
    b.start()
    b.recorder("c").event(pod(), "Normal", "First", "lost")
    flush(b)
    sink.fail_creates = False
    b.recorder("c").event(pod(), "Normal", "Second", "delivered")
    flush(b)
    assert [e["reason"] for e in sink.events.values()] == ["Second"]


def test_events_recorded_before_start_are_written_once_started_and_before_stop() -> None:
    sink, clock = FakeSink(), FakeClock()
    b = broadcaster(sink, clock)
    b.recorder("c").event(pod(), "Normal", "Early", "before start")
    b.start()
    assert b.stop(timeout=WAIT)  # stop writes what is queued first
    assert [e["reason"] for e in sink.events.values()] == ["Early"]


def test_cluster_scoped_objects_get_their_events_in_default() -> None:
    ref = involved_object({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    event = render_event(
        ref,
        "Normal",
        "Ready",
        "m",
        component="c",
        host="h",
        timestamp=datetime(2030, 1, 1, tzinfo=UTC),
        name_suffix="1",
    )
    assert event["metadata"] == {"name": "n1.1", "namespace": "default"}
    assert "namespace" not in event["involvedObject"]


def test_long_messages_are_truncated_to_the_api_limit() -> None:
    event = render_event(
        involved_object(pod()),
        "Normal",
        "R",
        "x" * 5000,
        component="c",
        host="h",
        timestamp=datetime(2030, 1, 1, tzinfo=UTC),
        name_suffix="1",
    )
    assert len(event["message"]) == 1024


@pytest.mark.parametrize(
    ("obj", "type_", "reason"),
    [
        (pod(), "Error", "R"),
        (pod(), "Normal", ""),
        ({"kind": "Pod", "metadata": {}}, "Normal", "R"),
    ],
)
def test_invalid_events_are_rejected_at_the_call(
    obj: dict[str, Any], type_: str, reason: str
) -> None:
    b = broadcaster(FakeSink(), FakeClock())
    with pytest.raises(ValueError):
        b.recorder("c").event(obj, type_, reason, "m")
