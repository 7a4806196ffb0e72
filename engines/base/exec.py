"""Running a cache system's own command-line tool inside one of its pods.

Engines ask their cache system questions (how full is the cache, what is mounted, how many files)
with the system's CLI, run in the master pod. `PodExec` is the one seam for that: production uses
`KubernetesExec` (the API server's pods/exec WebSocket, as `kubectl exec`); tests use
`RecordedExec`, which answers from recorded real outputs and remembers every command it was given.

Failures are `ExecError`, an `EngineError`, so an engine that lets one escape gets a condition, an
event and a retry with backoff. The message names the pod, the command and what went wrong, and
never the command's arguments after `redact_after` (mount options can carry credentials).
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fluidpy.client.connection import ApiServerConnection
from fluidpy.context import Context
from fluidpy.engines.base.errors import EngineError

STDOUT_CHANNEL = 1
STDERR_CHANNEL = 2
ERROR_CHANNEL = 3
POLL_INTERVAL = 0.5
"""Seconds between checks of the deadline and the context while a command runs: short enough
that cancellation is prompt, long enough that an idle wait costs nothing."""
EXIT_STATUS_IN_MESSAGE = re.compile(r"exit status (\d+)\s*$")
"""How a kubelet that sends no ExitCode cause states the exit: kwok, the local cluster's fake
kubelet, fails the exec with an internal error whose message ends so."""
OUTPUT_EXCERPT = 400
"""Characters of output quoted in an error message; enough to show the cause, not a log dump."""


def describe(command: Sequence[str], redact_after: int | None = None) -> str:
    """The command as a shell line, with arguments from `redact_after` on replaced by '...'."""
    shown = list(command if redact_after is None else command[:redact_after])
    text = shlex.join(shown)
    return text + " ..." if redact_after is not None and len(command) > redact_after else text


def excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= OUTPUT_EXCERPT else text[:OUTPUT_EXCERPT] + "..."


class ExecError(EngineError):
    """A command could not run in the pod, or exited with a failure."""

    reason = "ExecFailed"

    def __init__(
        self,
        namespace: str,
        pod: str,
        command: Sequence[str],
        problem: str,
        *,
        exit_code: int | None = None,
        output: str = "",
        redact_after: int | None = None,
    ) -> None:
        shown = describe(command, redact_after)
        message = f"`{shown}` in pod {namespace}/{pod} {problem}"
        if output.strip():
            message += f": {excerpt(output)}"
        super().__init__(message)
        self.namespace = namespace
        self.pod = pod
        self.command = list(command)
        self.problem = problem
        self.exit_code = exit_code
        self.output = output

    def redacted(self, redact_after: int) -> ExecError:
        """The same error, showing only the first `redact_after` words of the command."""
        return type(self)(
            self.namespace,
            self.pod,
            self.command,
            self.problem,
            exit_code=self.exit_code,
            output=self.output,
            redact_after=redact_after,
        )


class ExecTimeout(ExecError):
    reason = "ExecTimeout"


class UnexpectedOutput(EngineError):
    """A command succeeded but printed something its parser does not understand.

    Raised instead of guessing: a wrong number in a status is worse than a clear error.
    """

    reason = "UnexpectedCommandOutput"

    def __init__(self, command: str, problem: str, output: str) -> None:
        shown = excerpt(output) if output.strip() else "<empty>"
        super().__init__(f"unexpected output from `{command}`: {problem}; output was: {shown}")
        self.output = output


def output_lines(command: str, output: str) -> list[str]:
    """The non-blank lines of a command's output, stripped; no output at all is an error, so a
    parser never reports zeros for a command that said nothing."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        raise UnexpectedOutput(command, "it printed nothing", output)
    return lines


class PodExec(Protocol):
    """Runs a command in a container of a pod and returns its standard output."""

    def run(
        self,
        ctx: Context,
        namespace: str,
        pod: str,
        container: str,
        command: list[str],
        *,
        timeout: float,
    ) -> str:
        """Raise ExecError when the command cannot run or exits non-zero, ExecTimeout when it
        has not finished after `timeout` seconds (or by the context's deadline)."""
        ...


@dataclass(frozen=True)
class PodTarget:
    """Where an engine runs its CLI: one container of one pod, through one transport."""

    transport: PodExec
    namespace: str
    pod: str
    container: str

    def run(
        self, ctx: Context, command: list[str], timeout: float, *, redact_after: int | None = None
    ) -> str:
        """Run `command`; with `redact_after`, an error shows only that many words of it (the
        rest may hold credentials) and does not chain the unredacted error."""
        try:
            return self.transport.run(
                ctx, self.namespace, self.pod, self.container, command, timeout=timeout
            )
        except ExecError as error:
            if redact_after is None:
                raise
            raise error.redacted(redact_after) from None


class KubernetesExec:
    """The API server's exec subresource, over the official client's WebSocket support.

    The `kubernetes` package is imported only when a command runs: importing it loads every
    generated model (7-19 MiB, most of a second), which a manager whose engines never exec
    should not pay. Each command gets its own `ApiClient`, configured from the connection at
    that moment (fresh credentials), because `kubernetes.stream.stream` swaps the request
    function of the client it is given while it runs: on a client shared between threads, that
    would send other threads' requests over the WebSocket transport.
    """

    def __init__(self, connection: ApiServerConnection) -> None:
        self._connection = connection

    def run(
        self,
        ctx: Context,
        namespace: str,
        pod: str,
        container: str,
        command: list[str],
        *,
        timeout: float,
    ) -> str:
        from kubernetes.client import ApiClient, CoreV1Api
        from kubernetes.client.exceptions import ApiException
        from kubernetes.stream import stream

        ctx.check()
        deadline = time.monotonic() + timeout
        if ctx.deadline is not None:
            deadline = min(deadline, ctx.deadline)
        with ApiClient(official_configuration(self._connection)) as api_client:
            try:
                session = stream(
                    CoreV1Api(api_client).connect_get_namespaced_pod_exec,
                    pod,
                    namespace,
                    container=container,
                    command=command,
                    stderr=True,
                    stdin=False,
                    stdout=True,
                    tty=False,
                    _preload_content=False,
                )
            except ApiException as error:
                raise ExecError(
                    namespace, pod, command, "could not start", output=str(error.reason or error)
                ) from error
            try:
                stdout, stderr, status = _collect(session, ctx, deadline)
            finally:
                session.close()
        if status is None:
            raise ExecTimeout(
                namespace, pod, command, f"did not finish within {timeout:g} s", output=stderr
            )
        return _checked(namespace, pod, command, (stdout, stderr), status)


def official_configuration(connection: ApiServerConnection) -> Any:
    """A `kubernetes.client.Configuration` with the connection's address, TLS and current
    credentials (its WebSocket library reads certificates from files only: see tls_files)."""
    from kubernetes.client import Configuration

    configuration = Configuration(host=connection.host)
    authorization = connection.auth_headers().get("Authorization")
    if authorization is not None:
        configuration.api_key = {"authorization": authorization}
    files = connection.tls_files()
    configuration.ssl_ca_cert = files.ca
    configuration.cert_file = files.certificate
    configuration.key_file = files.key
    configuration.verify_ssl = not connection.tls.insecure
    configuration.tls_server_name = connection.tls.server_name
    return configuration


def _collect(session: Any, ctx: Context, deadline: float) -> tuple[str, str, dict[str, Any] | None]:
    """Read until the command ends; status None means the deadline passed first."""
    stdout: list[str] = []
    stderr: list[str] = []
    error: list[str] = []
    while session.is_open():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "".join(stdout), "".join(stderr), None
        ctx.check()
        session.update(timeout=min(remaining, POLL_INTERVAL))
        stdout.append(session.read_channel(STDOUT_CHANNEL, timeout=0))
        stderr.append(session.read_channel(STDERR_CHANNEL, timeout=0))
        error.append(session.read_channel(ERROR_CHANNEL, timeout=0))
    raw = "".join(error).strip()
    status = json.loads(raw) if raw else {"status": "Failure", "message": "no exit status"}
    return "".join(stdout), "".join(stderr), status


def _checked(
    namespace: str, pod: str, command: list[str], output: tuple[str, str], status: dict[str, Any]
) -> str:
    stdout, stderr = output
    if status.get("status") == "Success":
        return stdout
    exit_code = _exit_code(status)
    problem = f"exited with code {exit_code}" if exit_code is not None else "failed"
    detail = stderr or stdout or _without_arguments(str(status.get("message") or ""), command)
    raise ExecError(namespace, pod, command, problem, exit_code=exit_code, output=detail)


def _without_arguments(message: str, command: list[str]) -> str:
    """The status message without the command line some kubelets quote in it (kwok does), whose
    arguments may hold credentials; the error names the command itself, redacted as asked."""
    if len(command) < 2:
        return message
    return message.replace(" ".join(command), f"{command[0]} ...")


def _exit_code(status: dict[str, Any]) -> int | None:
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message", ""))
            except ValueError:
                return None
    stated = EXIT_STATUS_IN_MESSAGE.search(str(status.get("message") or ""))
    return int(stated.group(1)) if stated else None


Reply = str | Exception
"""What a recorded command answers: its standard output, or the error it raised."""


@dataclass(frozen=True)
class ExecCall:
    namespace: str
    pod: str
    container: str
    command: tuple[str, ...]


class RecordedExec:
    """A PodExec double: replies come from a table keyed by the exact command.

    A command given several replies answers them in turn and repeats the last one, so a test can
    script "not mounted yet, then mounted". A command with no reply fails like a missing binary
    (exit code 127), so an engine running something unexpected shows up as an error, never as
    an empty answer. Every call is recorded, in order, thread-safely (probes run in the
    background).
    """

    def __init__(
        self, replies: Mapping[tuple[str, ...], Reply | list[Reply]] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._replies: dict[tuple[str, ...], list[Reply]] = {}
        self.calls: list[ExecCall] = []
        for command, reply in (replies or {}).items():
            if isinstance(reply, str | Exception):
                self.reply(command, reply)
            else:
                self.reply(command, *reply)

    def reply(self, command: Iterable[str], *replies: Reply) -> None:
        """Answer `command` with `replies` in turn (replacing what it answered before)."""
        if not replies:
            raise ValueError("give at least one reply")
        with self._lock:
            self._replies[tuple(command)] = list(replies)

    def commands(self) -> list[tuple[str, ...]]:
        with self._lock:
            return [call.command for call in self.calls]

    def run(
        self,
        ctx: Context,
        namespace: str,
        pod: str,
        container: str,
        command: list[str],
        *,
        timeout: float,
    ) -> str:
        ctx.check()
        key = tuple(command)
        with self._lock:
            self.calls.append(ExecCall(namespace, pod, container, key))
            queue = self._replies.get(key)
            reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
        if reply is None:
            raise ExecError(
                namespace,
                pod,
                command,
                "exited with code 127",
                exit_code=127,
                output="command not found (no recorded reply)",
            )
        if isinstance(reply, Exception):
            raise reply
        return reply
