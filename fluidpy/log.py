"""Structured logging set-up: JSON in a pod, readable console output in a terminal.

Log collectors in a cluster parse one JSON object per line; a person at a terminal wants aligned,
coloured text. The choice is made once, at start-up, from where the process runs, and a
`--log-format` flag overrides it. Values bound with `structlog.contextvars` (the controller binds
controller, namespace, name and reconcileID around every reconcile) appear in every line logged
on that thread, whichever logger wrote it. Records from the standard `logging` module (the
`kubernetes` client, urllib3) go through the same renderer, so a pod's output stays one format.

JSON lines use controller-runtime's key names, so queries written for Go operators' logs work
unchanged: the message is `msg` (structlog's `event` is easily confused with a Kubernetes Event),
and a reconcile is identified by `controller`, `namespace`, `name` and `reconcileID`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO, cast

import structlog
from structlog.typing import Processor

LogFormat = Literal["auto", "json", "console"]
LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error")
MESSAGE_KEY = "msg"
"""The JSON key of a line's message, as controller-runtime (zap) writes it."""
RECONCILE_ID_KEY = "reconcileID"
"""The key of the id that ties together every line of one reconcile, as controller-runtime's."""


def detect_format(environ: Mapping[str, str], stream: TextIO) -> Literal["json", "console"]:
    """JSON inside a pod or when output goes to a pipe or file, console on an interactive TTY.

    KUBERNETES_SERVICE_HOST is set in every container a kubelet starts, which makes it the most
    reliable "running in a pod" signal; a non-TTY stdout covers log files and CI outside a pod.
    """
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return "json"
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return "json"
    return "console"


def configure(
    log_format: LogFormat = "auto",
    level: str = "info",
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> Literal["json", "console"]:
    """Configure structlog and the standard logging module; returns the format chosen.

    `log_format` defaults to "auto" (see detect_format). `level` defaults to "info": debug lines
    of the client libraries are too chatty for normal operation. `stream` defaults to stdout,
    where container runtimes collect logs.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, not {log_format!r}")
    if level.lower() not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {LOG_LEVELS}, not {level!r}")
    out = stream if stream is not None else sys.stdout
    chosen = (
        detect_format(os.environ if environ is None else environ, out)
        if log_format == "auto"
        else log_format
    )
    numeric_level = logging.getLevelNamesMapping()[level.upper()]

    # Everything goes through one standard-library handler, so structlog's own lines and those of
    # other libraries share one renderer; the stdlib logger name becomes the "logger" field.
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if chosen == "json":
        final += [
            structlog.processors.dict_tracebacks,
            structlog.processors.EventRenamer(MESSAGE_KEY),
            _leading_keys,
            structlog.processors.JSONRenderer(),
        ]
    else:
        final.append(structlog.dev.ConsoleRenderer(colors=_supports_colour(out)))

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=final)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    return chosen


def configure_for_capture(level: str = "debug") -> None:
    """Send every line to the standard `logging` module as readable text, with no handler of
    its own.

    Under pytest this makes the logging plugin capture each test's lines (a manager's worker
    threads included) and show them in a failing test's report, instead of structlog's
    unconfigured default printing to stdout, where lines written between tests escape capture.
    """
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


LEADING_KEYS = ("level", "timestamp", "logger", MESSAGE_KEY, "controller", "namespace", "name")
"""JSON keys first in every line, in zap's order, so a person reading raw lines finds them."""


def _leading_keys(
    _logger: object, _method: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    leading = {key: event_dict.pop(key) for key in LEADING_KEYS if key in event_dict}
    return {**leading, **event_dict}


def _supports_colour(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --log-format and --log-level to a command line, with configure()'s defaults."""
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="auto",
        help="log output format (default auto: json in a pod or when piped, for log collectors; "
        "console on a terminal, for people)",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="lowest level logged (default info: what the manager did to which object; debug "
        "adds a line at the start and end of every reconcile)",
    )


def configure_from_args(args: argparse.Namespace) -> Literal["json", "console"]:
    """Apply the options added by add_arguments()."""
    return configure(cast(LogFormat, args.log_format), cast(str, args.log_level))


def get_logger(name: str | None = None, **initial: Any) -> structlog.typing.FilteringBoundLogger:
    """A structlog logger; `name` appears as the `logger` field of each line.

    Safe to call at import time: the logger reads the configuration at each use.
    """
    args = (name,) if name is not None else ()
    return cast(structlog.typing.FilteringBoundLogger, structlog.get_logger(*args, **initial))
