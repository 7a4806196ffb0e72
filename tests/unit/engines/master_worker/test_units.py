"""Sizes: Kubernetes quantities, CLI sizes and status formatting."""

from __future__ import annotations

import pytest

from fluidpy.engines.base.units import (
    bytes_size,
    format_quantity,
    parse_human_bytes,
    parse_quantity,
    percentage,
    quantity_value,
    same_quantity,
    short_size,
)


@pytest.mark.parametrize(
    ("quantity", "size"),
    [
        ("2Gi", 2 * 1024**3),
        ("20M", 20_000_000),
        ("500Mi", 500 * 1024**2),
        ("1e3", 1000),
        ("1.5Gi", 3 * 1024**3 // 2),
        ("100", 100),
        (4096, 4096),
        ("0.1", 1),
    ],
)
def test_quantities_become_bytes_rounded_up(quantity: str | int, size: int) -> None:
    assert parse_quantity(quantity) == size


@pytest.mark.parametrize("quantity", ["", "2GB", "lots", "-1Gi", "1.2.3"])
def test_a_malformed_quantity_is_rejected(quantity: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(quantity)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1Gi", 2**30), ("1024Mi", 2**30), ("500m", 0.5), ("2k", 2000), ("1e3", 1000), (3, 3)],
)
def test_quantities_keep_their_exact_values(text: str | int, value: float) -> None:
    assert quantity_value(text) == pytest.approx(value)


@pytest.mark.parametrize("value", ["Memory", True, None, 1.5])
def test_things_that_are_not_quantities_have_no_value(value: object) -> None:
    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        quantity_value(value)


def test_two_spellings_of_one_quantity_are_the_same_and_non_quantities_never_are() -> None:
    assert same_quantity("0.5", "500m")
    assert same_quantity("1024Mi", "1Gi")
    assert not same_quantity("1Gi", "1G")
    assert not same_quantity("abc", "abc")


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (3 * 1024**3, "3Gi"),
        (1024**2 + 1024, "1025Ki"),
        (1_500_000_000, "1500M"),
        (2**30 + 1, "1073741825"),
        (0, "0"),
    ],
)
def test_sizes_are_written_as_the_shortest_exact_quantity(size: int, text: str) -> None:
    assert format_quantity(size) == text
    assert parse_quantity(text) == size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2.00GB", 2 * 1024**3),
        ("5120.00MB", 5 * 1024**3),
        ("0B", 0),
        ("512KB", 512 * 1024),
        ("1.5GiB", 3 * 1024**3 // 2),
        ("1,024B", 1024),
        (" 3TB ", 3 * 1024**4),
    ],
)
def test_cli_sizes_are_binary(text: str, size: int) -> None:
    assert parse_human_bytes(text) == size


@pytest.mark.parametrize("text", ["", "GB", "-1GB", "2.00 XB", "N/A"])
def test_a_malformed_cli_size_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_human_bytes(text)


def test_status_sizes_have_two_decimals_and_binary_units() -> None:
    assert bytes_size(0) == "0.00B"
    assert bytes_size(19_996_344) == "19.07MiB"
    assert bytes_size(2 * 1024**3) == "2.00GiB"


def test_label_sizes_are_short() -> None:
    assert short_size(2 * 1024**3) == "2GiB"
    assert short_size(1.5 * 1024**3) == "1.5GiB"


def test_percentages_have_one_decimal_are_capped_and_survive_an_empty_whole() -> None:
    assert percentage(12, 31) == "38.7%"
    assert percentage(3, 2) == "100.0%"
    assert percentage(1, 0) == "0.0%"
