"""docs/writing-an-engine.md names every interface method, Go and Python, exactly."""

from __future__ import annotations

import ast
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


EXAMPLE = DOC.parents[1] / "examples" / "configmap-cache"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def smallest_engine_blocks() -> list[str]:
    text = DOC.read_text()
    start = text.index("## The smallest engine")
    section = text[start : text.index("\n## ", start + 1)]
    return [body for language, body in FENCE.findall(section) if language in ("toml", "python")]


def test_the_smallest_engine_section_shows_the_example_files_as_they_are() -> None:
    files = ["pyproject.toml", "fluidpy_configmap_cache.py", "test_configmap_cache.py"]

    assert smallest_engine_blocks() == [(EXAMPLE / name).read_text() for name in files]


def code_lines(path: Path) -> int:
    """Lines of Python that are neither blank nor part of a docstring."""
    source = path.read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    lines = enumerate(source.splitlines(), start=1)
    return sum(1 for number, line in lines if line.strip() and number not in docstrings)


def test_the_smallest_engine_is_small_and_so_is_its_test() -> None:
    assert code_lines(EXAMPLE / "fluidpy_configmap_cache.py") <= 60
    assert code_lines(EXAMPLE / "test_configmap_cache.py") <= 30
