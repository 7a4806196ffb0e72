"""docs/writing-an-engine.md names every interface method, Go and Python, exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fluidpy.engines.base import Engine, Implement, go_name, interface_methods

DOC = Path(__file__).resolve().parents[4] / "docs" / "writing-an-engine.md"
ROW = re.compile(r"^\| `(\w+)` \| `(\w+)` \|$")


def table(heading: str) -> list[tuple[str, str]]:
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading} "))
    rows = []
    for line in lines[start + 2 :]:
        match = ROW.match(line)
        if not match:
            break
        rows.append((match[1], match[2]))
    return rows


@pytest.mark.parametrize(
    ("heading", "interface"),
    [("Go (Engine)", Engine), ("Go (Implement, with UnderFileSystemService)", Implement)],
)
def test_the_name_table_lists_every_method_in_declaration_order(
    heading: str, interface: type
) -> None:
    expected = [(go_name(name), name) for name in interface_methods(interface)]

    assert table(heading) == expected


def test_go_spells_acronyms_in_capitals() -> None:
    assert go_name("id") == "ID"
    assert go_name("should_check_ufs") == "ShouldCheckUFS"
