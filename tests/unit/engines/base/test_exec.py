"""The exec seam: the recorded double, error messages, and reading an exec session."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fluidpy.context import Context
from fluidpy.engines.base.exec import (
    ERROR_CHANNEL,
    STDOUT_CHANNEL,
    ExecError,
    ExecTimeout,
    PodTarget,
    RecordedExec,
    _checked,
    _collect,
)

CTX = Context.background()


def test_recorded_exec_answers_a_command_and_records_the_call() -> None:
    transport = RecordedExec({("alluxio", "fs", "mount"): "/ufs on /\n"})

    out = transport.run(CTX, "ns", "m-0", "c", ["alluxio", "fs", "mount"], timeout=5)

    assert out == "/ufs on /\n"
    assert transport.commands() == [("alluxio", "fs", "mount")]
    assert transport.calls[0].pod == "m-0"


def test_several_replies_come_in_turn_and_the_last_repeats() -> None:
    transport = RecordedExec({("ls",): ["one", "two"]})

    answers = [transport.run(CTX, "ns", "p", "c", ["ls"], timeout=1) for _ in range(3)]

    assert answers == ["one", "two", "two"]


def test_a_recorded_error_is_raised() -> None:
    failure = ExecError("ns", "p", ["free"], "exited with code 1", exit_code=1)
    transport = RecordedExec({("free",): failure})

    with pytest.raises(ExecError) as raised:
        transport.run(CTX, "ns", "p", "c", ["free"], timeout=1)

    assert raised.value is failure


def test_an_unrecorded_command_fails_like_a_missing_binary() -> None:
    with pytest.raises(ExecError) as raised:
        RecordedExec().run(CTX, "ns", "p", "c", ["rm", "-rf", "/"], timeout=1)

    assert raised.value.exit_code == 127
    assert "`rm -rf /` in pod ns/p exited with code 127" in str(raised.value)


def test_a_cancelled_context_stops_before_running() -> None:
    ctx, cancel = Context.background().with_cancel()
    cancel()
    transport = RecordedExec({("ls",): "x"})

    with pytest.raises(Exception, match="cancel"):
        transport.run(ctx, "ns", "p", "c", ["ls"], timeout=1)
    assert transport.calls == []


def test_a_pod_target_can_hide_the_arguments_of_a_failed_command() -> None:
    command = ["alluxio", "fs", "mount", "--option", "secret=s3cr3t", "/a", "s3://b"]
    transport = RecordedExec(
        {tuple(command): ExecError("ns", "p", command, "exited with code 1", output="denied")}
    )
    target = PodTarget(transport, "ns", "p", "c")

    with pytest.raises(ExecError) as raised:
        target.run(CTX, command, 5, redact_after=3)

    assert "s3cr3t" not in str(raised.value)
    assert "`alluxio fs mount ...`" in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


class FakeSession:
    """A WSClient stand-in: frames arrive one update at a time, then the socket closes."""

    def __init__(self, frames: list[dict[int, str]], closes: bool = True) -> None:
        self._frames = frames
        self._closes = closes
        self._channels: dict[int, str] = {}
        self._open = True

    def is_open(self) -> bool:
        return self._open

    def update(self, timeout: float) -> None:
        if self._frames:
            for channel, data in self._frames.pop(0).items():
                self._channels[channel] = self._channels.get(channel, "") + data
        elif self._closes:
            self._open = False

    def read_channel(self, channel: int, timeout: float) -> str:
        return self._channels.pop(channel, "")


def test_a_session_is_read_until_it_closes_with_its_exit_status() -> None:
    status = json.dumps({"status": "Success"})
    session = FakeSession(
        [{STDOUT_CHANNEL: "Total "}, {STDOUT_CHANNEL: "Capacity: 1GB\n", ERROR_CHANNEL: status}]
    )

    stdout, stderr, result = _collect(session, CTX, deadline=float("inf"))

    assert (stdout, stderr, result) == ("Total Capacity: 1GB\n", "", {"status": "Success"})


def test_a_session_still_open_at_the_deadline_has_no_status() -> None:
    session = FakeSession([], closes=False)

    assert _collect(session, CTX, deadline=0.0)[2] is None


def test_a_non_zero_exit_becomes_an_error_with_the_code_and_stderr() -> None:
    status: dict[str, Any] = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "2"}]},
    }

    with pytest.raises(ExecError) as raised:
        _checked("ns", "p", ["alluxio", "fs", "count", "/"], ("", "No such path"), status)

    assert raised.value.exit_code == 2
    assert str(raised.value) == (
        "`alluxio fs count /` in pod ns/p exited with code 2: No such path"
    )


def test_an_exit_stated_only_in_the_message_still_gives_the_code() -> None:
    status: dict[str, Any] = {
        "status": "Failure",
        "reason": "InternalError",
        "message": "Internal error occurred: error executing command in container: "
        "cmd wait: /opt/cli mount: exit status 3",
    }

    with pytest.raises(ExecError) as raised:
        _checked("ns", "p", ["/opt/cli", "mount"], ("", "bucket not found"), status)

    assert raised.value.exit_code == 3
    assert str(raised.value) == "`/opt/cli mount` in pod ns/p exited with code 3: bucket not found"


def test_a_command_line_quoted_in_the_status_message_never_shows_its_arguments() -> None:
    command = ["alluxio", "fs", "mount", "s3://bucket", "--option", "aws.secretKey=hunter2"]
    status = {
        "status": "Failure",
        "reason": "InternalError",
        "message": f"error executing command in container: cmd start: {' '.join(command)}: "
        'exec: "alluxio": executable file not found in $PATH',
    }

    with pytest.raises(ExecError) as raised:
        _checked("ns", "p", command, ("", ""), status)

    assert "hunter2" not in str(raised.value.redacted(3))
    assert str(raised.value.redacted(3)) == (
        "`alluxio fs mount ...` in pod ns/p failed: error executing command in container: "
        'cmd start: alluxio ...: exec: "alluxio": executable file not found in $PATH'
    )


def test_a_failure_without_an_exit_has_no_code() -> None:
    status = {"status": "Failure", "reason": "InternalError", "message": "no exec found"}

    with pytest.raises(ExecError) as raised:
        _checked("ns", "p", ["x"], ("", ""), status)

    assert raised.value.exit_code is None
    assert str(raised.value) == "`x` in pod ns/p failed: no exec found"


def test_success_returns_stdout() -> None:
    assert _checked("ns", "p", ["x"], ("out", "warn"), {"status": "Success"}) == "out"


def test_a_timeout_is_an_exec_error_subclass_and_keeps_its_type_when_redacted() -> None:
    error = ExecTimeout("ns", "p", ["a", "b"], "did not finish within 5 s")

    assert isinstance(error.redacted(1), ExecTimeout)
    assert str(error.redacted(1)) == "`a ...` in pod ns/p did not finish within 5 s"
