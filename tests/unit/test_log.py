"""Logging set-up: JSON in a pod or a pipe, console on a terminal, contextvars in every line."""

from __future__ import annotations

import argparse
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from fluidpy import log


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    yield
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_under_pytest_lines_reach_the_log_capture_with_their_context(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log.configure_for_capture("info")
    structlog.contextvars.bind_contextvars(reconcileID="r-1")
    with caplog.at_level(logging.DEBUG):
        structlog.get_logger("fluidpy.test").info("Reconciling", name="demo")
        structlog.get_logger("fluidpy.test").debug("too detailed")
    assert [record.levelname for record in caplog.records] == ["INFO"]
    line = caplog.records[0].getMessage()
    assert "Reconciling" in line and "name=demo" in line and "reconcileID=r-1" in line


def test_auto_picks_json_inside_a_pod_even_on_a_terminal() -> None:
    assert log.detect_format({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, Terminal()) == "json"


def test_auto_picks_json_when_output_is_not_a_terminal() -> None:
    assert log.detect_format({}, io.StringIO()) == "json"


def test_auto_picks_console_on_a_terminal_outside_a_pod() -> None:
    assert log.detect_format({}, Terminal()) == "console"


def test_json_lines_carry_bound_context_level_and_timestamp() -> None:
    out = io.StringIO()
    assert log.configure("json", stream=out, environ={}) == "json"
    with structlog.contextvars.bound_contextvars(controller="c", reconcileID="r-1"):
        log.get_logger("test").info("reconciled", name="obj")
    line = json.loads(out.getvalue().strip())
    assert list(line)[:6] == ["level", "timestamp", "logger", "msg", "controller", "name"]
    assert line["msg"] == "reconciled"
    assert line["controller"] == "c" and line["reconcileID"] == "r-1"
    assert line["name"] == "obj" and line["logger"] == "test"
    assert line["level"] == "info" and "timestamp" in line


def test_json_lines_carry_exceptions_as_structured_tracebacks() -> None:
    out = io.StringIO()
    log.configure("json", stream=out, environ={})
    try:
        raise ValueError("bad spec")
    except ValueError:
        log.get_logger().exception("failed")
    line = json.loads(out.getvalue().strip())
    assert line["exception"][0]["exc_type"] == "ValueError"
    assert line["exception"][0]["exc_value"] == "bad spec"


def test_standard_logging_records_use_the_same_format() -> None:
    out = io.StringIO()
    log.configure("json", stream=out, environ={})
    with structlog.contextvars.bound_contextvars(reconcileID="r-2"):
        logging.getLogger("urllib3").warning("retrying %s", "GET")
    line = json.loads(out.getvalue().strip())
    assert line["msg"] == "retrying GET"
    assert line["logger"] == "urllib3" and line["reconcileID"] == "r-2"


def test_console_format_is_human_readable() -> None:
    out = io.StringIO()
    log.configure("console", stream=out, environ={})
    log.get_logger().info("hello", name="obj")
    text = out.getvalue()
    assert "hello" in text and "name" in text and "obj" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_the_level_filters_lower_levels() -> None:
    out = io.StringIO()
    log.configure("json", "warning", stream=out, environ={})
    log.get_logger().info("hidden")
    logging.getLogger("lib").info("hidden too")
    log.get_logger().warning("shown")
    assert [json.loads(line)["msg"] for line in out.getvalue().splitlines()] == ["shown"]


def test_the_command_line_flags_override_detection() -> None:
    parser = argparse.ArgumentParser()
    log.add_arguments(parser)
    args = parser.parse_args(["--log-format", "console", "--log-level", "debug"])
    assert (args.log_format, args.log_level) == ("console", "debug")
    assert parser.parse_args([]).log_format == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["--log-format", "xml"])


@pytest.mark.parametrize(("fmt", "level"), [("xml", "info"), ("json", "verbose")])
def test_unknown_formats_and_levels_are_rejected(fmt: str, level: str) -> None:
    with pytest.raises(ValueError):
        log.configure(fmt, level)  # type: ignore[arg-type]
