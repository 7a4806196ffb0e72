"""One HTTP request to the API server: context check, rate limit, auth, timeout, metrics, errors.

Everything rides on the official client's ApiClient: its Configuration (host, credentials,
refreshed exec-plugin tokens) and its urllib3 pool (TLS, client certificates, proxies, connection
reuse). The generated models and their serializers are bypassed: bodies go out as JSON bytes and
come back as plain dicts, which is about a hundred times cheaper than building a V1Pod.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3

from fluidpy.client.errors import TransportError, error_from_response
from fluidpy.client.ratelimit import TokenBucket
from fluidpy.context import Context, ContextError, DeadlineExceeded
from fluidpy.metrics.rest import NO_RESPONSE, REST_CLIENT_REQUESTS

Query = Sequence[tuple[str, str]]

# Connecting is quick or hopeless: a loopback or in-cluster API server accepts within
# milliseconds, and ten seconds covers a congested node without hiding an outage for long.
CONNECT_TIMEOUT = 10.0


class Transport:
    """Sends requests for one API server; shared by a Client and the clients derived from it.

    `qps` <= 0 disables the client-side limit (controller-runtime's choice, leaving fairness to
    the server's API Priority and Fairness); `request_timeout` bounds every non-watch request.
    """

    def __init__(self, api_client: Any, *, qps: float, burst: int, request_timeout: float) -> None:
        self.api_client = api_client
        self._base = str(api_client.configuration.host).rstrip("/")
        self.host = urlsplit(self._base).netloc
        self._bucket = TokenBucket(qps, burst) if qps > 0 else None
        self.request_timeout = request_timeout

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
    ) -> urllib3.BaseHTTPResponse:
        if self._bucket is not None:
            self._bucket.wait(ctx)
        if ctx is not None:
            ctx.check()
        params = list(query)
        headers: dict[str, str] = {"Accept": "application/json"}
        headers.update(self.api_client.default_headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        self.api_client.update_params_for_auth(headers, params, ["BearerToken"], path, method, body)
        url = f"{self._base}{path}?{urlencode(params)}" if params else self._base + path
        pool: urllib3.PoolManager = self.api_client.rest_client.pool_manager
        try:
            response = pool.request(
                method, url, body=body, headers=headers, timeout=timeout, preload_content=False
            )
        except urllib3.exceptions.HTTPError as error:
            REST_CLIENT_REQUESTS.labels(NO_RESPONSE, method, self.host).inc()
            raise self._failure(method, path, error, ctx) from error
        REST_CLIENT_REQUESTS.labels(str(response.status), method, self.host).inc()
        return response

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
