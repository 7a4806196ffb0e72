"""Kubernetes Event recording (core/v1 Event) that never blocks a reconcile.

Events tell a person running `kubectl describe` what the controller did to an object. They are
best effort by design, so recording must cost the caller nothing:

- `EventRecorder.event()` only puts a small record on a bounded queue and returns. A single writer
  thread per manager talks to the API server. When the queue is full (the API server is down or
  slow and events pile up) new events are dropped and counted in a log line, never waited for.
- Repeats are aggregated: an event with the same involved object, type, reason, message and
  component as one written within `aggregation_window` patches that Event's count and
  lastTimestamp instead of creating another object. A controller retrying a failing reconcile
  every few seconds therefore produces one Event with a growing count, not hundreds.
- The memory of recent events is a bounded LRU (`max_remembered` entries), so a controller that
  reports on many objects cannot grow it without limit; an evicted entry only means the next
  repeat creates a fresh Event.
- A write that fails is logged and dropped: retrying would reorder events and hold the queue for
  something a later event will say again anyway.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from fluidpy.client import GVK, ApiError, Client, NotFound
from fluidpy.log import get_logger

log = get_logger("fluidpy.events")

NORMAL = "Normal"
WARNING = "Warning"
EVENT_GVK = GVK("", "v1", "Event")
MESSAGE_LIMIT = 1024
"""Longer messages are cut: the API server rejects Event notes over 1 KiB."""


class EventSink(Protocol):
    """Where events go; the real one writes Event objects, tests use an in-memory fake."""

    def create(self, event: dict[str, Any]) -> None: ...

    def patch(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        """Merge-patch an existing Event; raises fluidpy.client.NotFound when it is gone."""
        ...


class ClientEventSink:
    """Writes Events through a fluidpy Client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self, event: dict[str, Any]) -> None:
        self._client.create(event)

    def patch(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self._client.patch(EVENT_GVK, name, namespace, patch, patch_type="merge")


@dataclass(frozen=True)
class _Pending:
    involved: dict[str, str]
    type: str
    reason: str
    message: str
    component: str


@dataclass
class _Seen:
    namespace: str
    name: str
    count: int
    last_seen: float


def involved_object(obj: Mapping[str, Any]) -> dict[str, str]:
    """The object reference an Event points at."""
    meta = obj.get("metadata") or {}
    ref = {
        "apiVersion": str(obj.get("apiVersion", "")),
        "kind": str(obj.get("kind", "")),
        "name": str(meta.get("name", "")),
    }
    for src, dst in (
        ("namespace", "namespace"),
        ("uid", "uid"),
        ("resourceVersion", "resourceVersion"),
    ):
        if meta.get(src):
            ref[dst] = str(meta[src])
    if not ref["kind"] or not ref["name"]:
        raise ValueError("an event needs an object with kind and metadata.name")
    return ref


def render_event(
    involved: Mapping[str, str],
    type: str,
    reason: str,
    message: str,
    *,
    component: str,
    host: str,
    timestamp: datetime,
    name_suffix: str,
) -> dict[str, Any]:
    """A core/v1 Event with count 1. Cluster-scoped objects' events go to "default", as
    kubectl expects them there."""
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{involved['name'][:200]}.{name_suffix}",
            "namespace": involved.get("namespace") or "default",
        },
        "involvedObject": dict(involved),
        "type": type,
        "reason": reason,
        "message": message[:MESSAGE_LIMIT],
        "source": {"component": component, "host": host},
        "reportingComponent": component,
        "reportingInstance": host,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


class EventRecorder:
    """Records events for one component (the `source.component` shown by kubectl)."""

    def __init__(self, broadcaster: EventBroadcaster, component: str) -> None:
        self._broadcaster = broadcaster
        self.component = component

    def event(self, obj: Mapping[str, Any], type: str, reason: str, message: str) -> None:
        """Queue an event about `obj`; `type` is "Normal" or "Warning". Never blocks."""
        if type not in (NORMAL, WARNING):
            raise ValueError(f"event type must be Normal or Warning, not {type!r}")
        if not reason:
            raise ValueError("an event needs a reason")
        self._broadcaster.submit(
            _Pending(involved_object(obj), type, reason, message, self.component)
        )


class EventBroadcaster:
    """The queue and writer thread shared by every recorder of a manager."""

    def __init__(
        self,
        sink: EventSink,
        *,
        host: str | None = None,
        aggregation_window: float = 600.0,
        max_remembered: int = 4096,
        queue_size: int = 1000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`aggregation_window` defaults to 10 minutes, the span over which kubectl users read a
        count as "still happening". `max_remembered` defaults to 4096 recent events (about
        1 MiB). `queue_size` defaults to 1000 pending events, minutes of a busy controller's
        output, after which events are dropped rather than held in memory."""
        self._sink = sink
        self.host = host if host is not None else socket.gethostname()
        self._window = aggregation_window
        self._max_remembered = max_remembered
        self._queue: queue.Queue[_Pending | None] = queue.Queue(maxsize=queue_size)
        self._clock = clock
        self._wall = wall_clock
        self._seen: OrderedDict[tuple[Any, ...], _Seen] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._dropped = 0
        self._dropping = 0
        """Events dropped since the queue last took one."""
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._unwritten = 0
        self._last_suffix = 0

    def recorder(self, component: str) -> EventRecorder:
        if not component:
            raise ValueError("an event recorder needs a component name")
        return EventRecorder(self, component)

    @property
    def dropped(self) -> int:
        """Events dropped because the queue was full."""
        return self._dropped

    def submit(self, pending: _Pending) -> None:
        """Queue the event, or drop it when the queue is full. A run of drops is logged twice,
        when it starts and when the queue takes events again, not once per event: a thousand
        runtimes starting at once drop hundreds, and a line each would bury the log."""
        with self._lock:
            self._unwritten += 1
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            with self._lock:
                self._unwritten -= 1
                self._dropped += 1
                self._dropping += 1
                first = self._dropping == 1
            if first:
                log.warning(
                    "event queue full, dropping events until it has room",
                    reason=pending.reason,
                    queue_size=self._queue.maxsize,
                )
            return
        with self._lock:
            dropped, self._dropping = self._dropping, 0
        if dropped:
            log.warning("event queue has room again", dropped=dropped, dropped_in_all=self._dropped)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("event broadcaster already started")
        self._thread = threading.Thread(target=self._loop, name="event-writer", daemon=True)
        self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued event was written (or failed); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unwritten == 0, timeout)

    def stop(self, timeout: float | None = None) -> bool:
        """Write what is queued, then stop; False if that took longer than `timeout`."""
        thread = self._thread
        if thread is None:
            return True
        self._queue.put(None)
        thread.join(timeout)
        return not thread.is_alive()

    def _loop(self) -> None:
        while (pending := self._queue.get()) is not None:
            try:
                self._write(pending)
            except ApiError as error:
                # The API server said no (say, the namespace is being deleted): expected, and
                # fully described by its message, so no traceback.
                log.warning("could not write event", reason=pending.reason, error=str(error))
            except Exception:
                log.exception("could not write event", reason=pending.reason)
            finally:
                with self._idle:
                    self._unwritten -= 1
                    self._idle.notify_all()

    def _unique_suffix(self) -> str:
        """Nanosecond time in hex, as kubectl users know it, forced to increase so two events
        about one object in the same clock tick still get distinct names."""
        self._last_suffix = max(time.time_ns(), self._last_suffix + 1)
        return f"{self._last_suffix:x}"

    def _write(self, pending: _Pending) -> None:
        ref = pending.involved
        key = (
            ref.get("uid") or (ref["apiVersion"], ref["kind"], ref.get("namespace"), ref["name"]),
            pending.type,
            pending.reason,
            pending.message,
            pending.component,
        )
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen.last_seen < self._window:
            patch = {
                "count": seen.count + 1,
                "lastTimestamp": self._wall().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            try:
                self._sink.patch(seen.namespace, seen.name, patch)
            except NotFound:
                del self._seen[key]
            else:
                seen.count += 1
                seen.last_seen = now
                self._seen.move_to_end(key)
                return
        event = render_event(
            ref,
            pending.type,
            pending.reason,
            pending.message,
            component=pending.component,
            host=self.host,
            timestamp=self._wall(),
            name_suffix=self._unique_suffix(),
        )
        self._sink.create(event)
        self._seen[key] = _Seen(event["metadata"]["namespace"], event["metadata"]["name"], 1, now)
        self._seen.move_to_end(key)
        while len(self._seen) > self._max_remembered:
            self._seen.popitem(last=False)
