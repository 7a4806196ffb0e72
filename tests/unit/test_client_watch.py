"""Decoding watch streams."""

import json

import pytest

from fluidpy.client import Gone
from fluidpy.client.watch import decode_event, split_lines


def test_lines_are_reassembled_across_chunks() -> None:
    chunks = [b'{"a":', b"1}\n{", b'"b":2}\n', b'{"c":3}\n{"d":4}\n']
    assert list(split_lines(chunks)) == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']


def test_last_line_without_newline_is_kept_and_blank_lines_skipped() -> None:
    assert list(split_lines([b"\n\nx\n", b"  \n", b"y"])) == [b"x", b"y"]


def test_event_decodes_to_type_and_object() -> None:
    line = json.dumps({"type": "MODIFIED", "object": {"kind": "Pod"}}).encode()
    assert decode_event(line) == ("MODIFIED", {"kind": "Pod"})


def test_error_event_raises_its_api_error() -> None:
    line = json.dumps(
        {
            "type": "ERROR",
            "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"},
        }
    ).encode()
    with pytest.raises(Gone, match="too old"):
        decode_event(line)
