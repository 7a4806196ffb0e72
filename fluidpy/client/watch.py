"""A watch stream as an iterator of (type, object) pairs, closable from any thread.

The API server sends one JSON event per line: {"type": ..., "object": ...}. A reader blocked on
the socket cannot be woken by a flag, so close() shuts the socket down underneath it; that is
how an informer stops promptly when its context ends instead of waiting for the next event.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Generator, Iterable, Iterator
from typing import Any

import urllib3

from fluidpy.client.errors import TransportError, WatchInactive, error_from_status

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
BOOKMARK = "BOOKMARK"
ERROR = "ERROR"

_READ_SIZE = 64 * 1024


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Whole lines from arbitrarily cut chunks (an event may span reads, or share one)."""
    parts: list[bytes] = []
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            parts.append(chunk[start:end])
            line = b"".join(parts)
            parts.clear()
            if line.strip():
                yield line
            start = end + 1
        if start < len(chunk):
            parts.append(chunk[start:])
    line = b"".join(parts)
    if line.strip():
        yield line


def decode_event(line: bytes) -> tuple[str, dict[str, Any]]:
    """One watch line as (type, object); an ERROR event raises its ApiError (e.g. Gone)."""
    event = json.loads(line)
    kind, obj = event["type"], event["object"]
    if kind == ERROR:
        raise error_from_status(obj)
    return kind, obj


class WatchStream:
    """Iterate to receive events; the iteration ends when the server closes the watch.

    Raises WatchInactive when no byte arrived within the read timeout the stream was opened
    with, TransportError when the connection broke, and the event's ApiError for an ERROR event.
    After close() (from any thread) the iteration just ends.
    """

    def __init__(self, response: urllib3.BaseHTTPResponse, inactivity_timeout: float) -> None:
        self._response = response
        self._inactivity_timeout = inactivity_timeout
        self._lock = threading.Lock()
        self._closed = False
        self._released = False
        self._events = self._decode()

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self

    def __next__(self) -> tuple[str, dict[str, Any]]:
        return next(self._events)

    def close(self) -> None:
        """Stop the stream; safe to call from another thread while one is blocked reading."""
        self._shutdown()
        try:
            self._events.close()
        except ValueError:
            return  # another thread is inside next(): it reads EOF and releases the response
        self._release()

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Already released, or never connected: then there is nothing left to interrupt.
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                self._response.shutdown()

    def _release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._response.close()
        self._response.release_conn()

    def _decode(self) -> Generator[tuple[str, dict[str, Any]], None, None]:
        try:
            for line in split_lines(self._chunks()):
                yield decode_event(line)
        finally:
            self._shutdown()
            self._release()

    def _chunks(self) -> Iterator[bytes]:
        while True:
            try:
                chunk = self._response.read1(_READ_SIZE)
            except urllib3.exceptions.ReadTimeoutError as error:
                if self._closed:
                    return
                raise WatchInactive(
                    f"no data for {self._inactivity_timeout:g} s on a watch"
                ) from error
            except (urllib3.exceptions.HTTPError, OSError) as error:
                if self._closed:
                    return
                raise TransportError(f"watch stream broke: {error}") from error
            if not chunk:
                return
            yield chunk
