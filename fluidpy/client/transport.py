"""One HTTP request to the API server: context check, rate limit, auth, timeout, metrics, errors.

Everything rides on an ApiServerConnection (connection.py): its address, its credentials
(refreshed as they expire, and once more after a 401) and its urllib3 pool (TLS, client
certificates, connection reuse). Bodies go out as JSON bytes and come back as plain dicts, about
a hundred times cheaper than building the official client's models (a V1Pod).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from fluidpy.client.connection import ApiServerConnection
from fluidpy.client.errors import TransportError, error_from_response
from fluidpy.client.ratelimit import TokenBucket
from fluidpy.context import Context, ContextError, DeadlineExceeded
from fluidpy.log import get_logger
from fluidpy.metrics.rest import NO_RESPONSE, REST_CLIENT_REQUESTS

log = get_logger("fluidpy.client.transport")

Query = Sequence[tuple[str, str]]

# Connecting is quick or hopeless: a loopback or in-cluster API server accepts within
# milliseconds, and ten seconds covers a congested node without hiding an outage for long.
CONNECT_TIMEOUT = 10.0


JSON = "application/json"
METADATA_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
METADATA_ONLY = (
    f"application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,{METADATA_OBJECT}"
)
"""Objects as their metadata alone (PartialObjectMetadata), for lists and single objects: the
API server never sends the rest, so a Secret's values never reach the process. A watch asks
for METADATA_OBJECT alone (its events carry single objects; offered the list type first, the
API server streams nothing)."""

WriteFence = Callable[[], bool]
"""Whether this process may write now (a leader: only while its lease is proven valid)."""


class WriteFenced(ContextError):
    """A write was refused before it was sent: the process could not prove it still leads."""

    def __init__(self) -> None:
        super().__init__("not sent: this process cannot prove its leader lease is still valid")


class Transport:
    """Sends requests for one API server; shared by a Client and the clients derived from it.

    `qps` <= 0 disables the client-side limit (controller-runtime's choice, leaving fairness to
    the server's API Priority and Fairness); `request_timeout` bounds every non-watch request.
    """

    def __init__(
        self, connection: ApiServerConnection, *, qps: float, burst: int, request_timeout: float
    ) -> None:
        self.connection = connection
        self._base = connection.host
        self.host = urlsplit(self._base).netloc
        self._bucket = TokenBucket(qps, burst) if qps > 0 else None
        self.request_timeout = request_timeout
        self.write_fence: WriteFence | None = None
        self.accept = JSON
        self.stream_accept = JSON

    def with_own_rate_limit(self) -> Transport:
        """This transport (same pool and credentials) with a token bucket of its own, of the
        same size: for traffic that must not queue behind, or hold up, the rest."""
        derived = copy.copy(self)
        if self._bucket is not None:
            derived._bucket = TokenBucket(self._bucket.qps, self._bucket.burst)
        return derived

    def fenced(self, fence: WriteFence) -> Transport:
        """This transport (same pool, limits and credentials) refusing writes `fence` denies."""
        derived = copy.copy(self)
        derived.write_fence = fence
        return derived

    def accepting(self, accept: str, stream_accept: str) -> Transport:
        """This transport asking for answers (`accept`) and watch events (`stream_accept`) in
        another representation (see METADATA_ONLY)."""
        derived = copy.copy(self)
        derived.accept, derived.stream_accept = accept, stream_accept
        return derived

    @property
    def bucket(self) -> TokenBucket | None:
        return self._bucket

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: bytes | None = None,
        content_type: str | None = None,
        ctx: Context | None = None,
    ) -> Any:
        """Send and return the decoded JSON answer; raise an ApiError for a non-2xx answer."""
        timeout = self._timeout_for(ctx)
        response = self._send(
            method,
            path,
            query=query,
            body=body,
            content_type=content_type,
            ctx=ctx,
            timeout=urllib3.Timeout(connect=min(CONNECT_TIMEOUT, timeout), read=timeout),
            accept=self.accept,
        )
        try:
            data = response.data
        except urllib3.exceptions.HTTPError as error:
            raise self._failure(method, path, error, ctx) from error
        finally:
            response.release_conn()
        if response.status >= 400:
            raise error_from_response(response.status, data, response.reason or "")
        return json.loads(data) if data else None

    def open_stream(
        self, path: str, *, query: Query, read_timeout: float, ctx: Context | None = None
    ) -> urllib3.BaseHTTPResponse:
        """GET a streaming answer (a watch); each socket read waits at most `read_timeout`.

        The caller reads the body and closes it; a non-2xx answer raises here instead.
        """
        timeout = self._timeout_for(ctx)
        response = self._send(
            "GET",
            path,
            query=query,
            ctx=ctx,
            timeout=urllib3.Timeout(connect=min(CONNECT_TIMEOUT, timeout), read=read_timeout),
            accept=self.stream_accept,
        )
        if response.status >= 400:
            try:
                data = response.data
            finally:
                response.release_conn()
            raise error_from_response(response.status, data, response.reason or "")
        return response

    def _timeout_for(self, ctx: Context | None) -> float:
        if ctx is None:
            return self.request_timeout
        ctx.check()
        remaining = ctx.remaining()
        if remaining is None:
            return self.request_timeout
        if remaining <= 0:
            raise DeadlineExceeded()
        return min(self.request_timeout, remaining)

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query,
        body: bytes | None = None,
        content_type: str | None = None,
        ctx: Context | None,
        timeout: urllib3.Timeout,
        accept: str,
    ) -> urllib3.BaseHTTPResponse:
        if self._bucket is not None:
            self._bucket.wait(ctx)
        if ctx is not None:
            ctx.check()
        writing = method != "GET"
        if writing and self.write_fence is not None and not self.write_fence():
            # Checked after the rate limiter's wait, as late as possible before the send.
            log.debug("api write fenced", method=method, path=path)
            raise WriteFenced()
        sent = time.time()
        url = f"{self._base}{path}?{urlencode(list(query))}" if query else self._base + path
        response = self._send_once(
            method,
            path,
            url,
            body=body,
            content_type=content_type,
            ctx=ctx,
            timeout=timeout,
            accept=accept,
        )
        REST_CLIENT_REQUESTS.labels(str(response.status), method, self.host).inc()
        if writing:
            log.debug(
                "api write",
                method=method,
                path=path,
                status=response.status,
                sent=sent,
                answered=time.time(),
            )
        return response

    def _send_once(
        self,
        method: str,
        path: str,
        url: str,
        *,
        body: bytes | None,
        content_type: str | None,
        ctx: Context | None,
        timeout: urllib3.Timeout,
        accept: str,
    ) -> urllib3.BaseHTTPResponse:
        """Send with the current credentials; after a 401, once more if they could be
        refreshed (an exec plugin's token expired early, a service-account token rotated)."""
        headers = {"Accept": accept, "User-Agent": self.connection.user_agent}
        if content_type is not None:
            headers["Content-Type"] = content_type
        credentials = self.connection.auth_headers()
        response = self._request(
            method,
            path,
            url,
            body=body,
            headers={**headers, **credentials},
            ctx=ctx,
            timeout=timeout,
        )
        if response.status == 401 and self.connection.rejected(credentials):
            REST_CLIENT_REQUESTS.labels(str(response.status), method, self.host).inc()
            response.drain_conn()
            response.release_conn()
            headers.update(self.connection.auth_headers())
            response = self._request(
                method, path, url, body=body, headers=headers, ctx=ctx, timeout=timeout
            )
        return response

    def _request(
        self,
        method: str,
        path: str,
        url: str,
        *,
        body: bytes | None,
        headers: dict[str, str],
        ctx: Context | None,
        timeout: urllib3.Timeout,
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self.connection.pool_manager.request(
                method, url, body=body, headers=headers, timeout=timeout, preload_content=False
            )
        except urllib3.exceptions.HTTPError as error:
            REST_CLIENT_REQUESTS.labels(NO_RESPONSE, method, self.host).inc()
            raise self._failure(method, path, error, ctx) from error

    @staticmethod
    def _failure(
        method: str, path: str, error: Exception, ctx: Context | None
    ) -> ContextError | TransportError:
        """A failure without an answer; the context's own error when it is what cut the call."""
        if ctx is not None:
            cause = ctx.err()
            if cause is not None:
                return cause
            if ctx.remaining() == 0.0:
                return DeadlineExceeded()
        return TransportError(f"{method} {path}: {error}")
