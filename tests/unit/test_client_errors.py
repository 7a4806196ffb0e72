"""Mapping API server answers to exception types."""

import json

import pytest

from fluidpy.client import (
    AlreadyExists,
    ApiError,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    error_from_response,
    error_from_status,
)


def status(code: int, reason: str, message: str = "msg") -> dict[str, object]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (404, "NotFound", NotFound),
        (409, "Conflict", Conflict),
        (409, "AlreadyExists", AlreadyExists),
        (410, "Gone", Gone),
        (410, "Expired", Gone),
        (422, "Invalid", Invalid),
        (403, "Forbidden", Forbidden),
        (500, "InternalError", ApiError),
    ],
)
def test_status_code_and_reason_choose_the_exception_type(
    code: int, reason: str, expected: type[ApiError]
) -> None:
    error = error_from_response(code, json.dumps(status(code, reason)).encode())
    assert type(error) is expected
    assert (error.status, error.reason, error.message) == (code, reason, "msg")


def test_already_exists_is_not_a_conflict_so_conflict_retries_skip_it() -> None:
    assert not isinstance(error_from_status(status(409, "AlreadyExists")), Conflict)


def test_expired_reason_means_gone_whatever_the_code() -> None:
    assert isinstance(error_from_status(status(500, "Expired")), Gone)


def test_error_keeps_the_whole_status_body() -> None:
    body = {**status(422, "Invalid"), "details": {"causes": [{"field": "spec.replicas"}]}}
    error = error_from_response(422, json.dumps(body).encode())
    assert error.body["details"]["causes"] == [{"field": "spec.replicas"}]


def test_http_status_wins_over_the_code_in_the_body() -> None:
    assert isinstance(error_from_response(404, json.dumps(status(0, "")).encode()), NotFound)


def test_non_json_body_becomes_the_message() -> None:
    error = error_from_response(503, b"upstream unavailable\n", "Service Unavailable")
    assert (error.status, error.reason, error.message) == (
        503,
        "Service Unavailable",
        "upstream unavailable",
    )


def test_empty_body_gets_a_reason_from_the_code() -> None:
    error = error_from_response(404, b"")
    assert isinstance(error, NotFound)
    assert error.reason == "NotFound"


def test_watch_error_event_status_maps_by_its_code() -> None:
    assert isinstance(error_from_status(status(410, "Expired", "too old resource version")), Gone)
